import { describe, expect, it } from 'vitest'
import { compilePlan } from '../spec/compile-plan.js'
import { parseDatasetSpec } from '../spec/parse-spec.js'
import type { DatasetSource, JoinedChunk, SourceFeedback } from '../source/dataset-source.js'
import { fixtureSource } from './dataset-fixture.test-suite.js'
import { type PipelineRow, runPipeline } from './pipeline.js'

describe('runPipeline', () => {
  it('a counting pass gives the same rows, values, labels and counts, without splits or weights', async () => {
    const source = fixtureSource()
    const plan = compilePlan(
      parseDatasetSpec({
        feedback: { label: { window: '7d', missing: 'drop' }, total: { name: 'purchase', aggregate: 'sum', missing: { default: 0 } } },
        label: { from: 'label' },
        weight: 'inverse_sample_rate',
        dedupe: 'input',
        split: { by: 'trace.session_id', ratios: { train: 0.5, test: 0.5 }, seed: 's' },
      }),
    )
    const base = { plan, source, project: 'p', bounds: { upToBatch: await source.watermark('p') }, chunkSize: 3 }
    const seen = (rows: PipelineRow[]) => rows.map((r) => [r.event.id, r.values, r.label, r.labelKey])
    const full: PipelineRow[] = []
    const counted: PipelineRow[] = []
    const a = await runPipeline(base, (r) => void full.push(r))
    const b = await runPipeline({ ...base, counting: true }, (r) => void counted.push(r))
    expect(b).toEqual(a)
    expect(full.length).toBeGreaterThan(0)
    expect(seen(counted)).toEqual(seen(full))
    expect(full.some((r) => r.split !== '' && r.weight !== 1)).toBe(true)
    expect(counted.every((r) => r.split === '' && r.splitKey === '' && r.weight === 1)).toBe(true)
  })

  it('feedback grouped by the event positions a source gives is grouped as by event id, in look-ups and joined chunks', async () => {
    const inner = fixtureSource()
    // Answers in reverse order (any order is allowed), with or without each item's event position.
    const located =
      (withIndex: boolean): DatasetSource['feedbackFor'] =>
      async (project, ids, upTo, names) => {
        const got = await inner.feedbackFor(project, ids, upTo, names)
        return got.reverse().map((f): SourceFeedback => (withIndex ? { ...f, eventIndex: ids.indexOf(f.eventId) } : { ...f }))
      }
    const plain: DatasetSource = { ...inner, feedbackFor: located(false) }
    const indexed: DatasetSource = { ...inner, feedbackFor: located(true) }
    const joined: DatasetSource = {
      ...indexed,
      async *scanJoined(project, filter, bounds, chunkSize, names): AsyncIterable<JoinedChunk> {
        for await (const events of inner.scanEvents(project, filter, bounds, chunkSize)) {
          const ids = events.map((e) => e.id)
          yield { events, feedback: await located(true)(project, ids, bounds.upToBatch, names) }
        }
      },
    }
    for (const select of [{}, { where: { 'context.tags.region': 'eu' } }]) {
      const plan = compilePlan(
        parseDatasetSpec({
          select,
          feedback: {
            label: { window: '7d', missing: 'drop' },
            all: { name: 'label', aggregate: 'all', missing: { default: [] } },
            total: { name: 'purchase', aggregate: 'sum', missing: { default: 0 } },
          },
          split: { by: 'trace.session_id', ratios: { train: 0.5, test: 0.5 }, seed: 's' },
        }),
      )
      const rows = async (source: DatasetSource) => {
        const out: unknown[] = []
        const counts = await runPipeline(
          { plan, source, project: 'p', bounds: { upToBatch: await inner.watermark('p') }, chunkSize: 3 },
          (r) => out.push([r.event.id, r.values, r.split]),
        )
        return { counts, out }
      }
      const byId = await rows(plain)
      expect(byId.out.length).toBeGreaterThan(0)
      expect(await rows(indexed)).toEqual(byId)
      expect(await rows(joined)).toEqual(byId)
    }
  })
})
