import { describe, expect, it } from 'vitest'
import { fromLabelStudio, toLabelStudioTasks } from './label-studio.js'
import { classProbabilities, selectForReview, uncertainty } from './select-for-review.js'

const ev = (id: string, output: unknown, extra: object = {}) => ({
  id,
  model: { name: 'm', version: '1' },
  input: { text: `t ${id}` },
  output,
  ...extra,
})

describe('active learning selection', () => {
  const events = [
    ev('a', { probabilities: [0.9, 0.05, 0.05] }),
    ev('b', { probabilities: [0.4, 0.35, 0.25] }),
    ev('c', { probabilities: [0.5, 0.5, 0] }),
    ev('d', { score: 0.55 }),
    ev('e', { label: 'x' }),
  ]
  const run = (strategy: 'least-confidence' | 'margin' | 'entropy', limit = 3) =>
    selectForReview(
      events.map((event) => ({ event })),
      { strategy, limit },
    )

  it('ranks by least confidence, margin and entropy', async () => {
    expect((await run('least-confidence')).map((p) => p.id)).toEqual(['b', 'c', 'd'])
    expect((await run('margin')).map((p) => p.id)).toEqual(['c', 'b', 'd'])
    expect((await run('entropy', 2)).map((p) => p.id)).toEqual(['b', 'c'])
    expect(uncertainty('entropy', [0.5, 0.5])).toBeCloseTo(Math.log(2))
    expect(classProbabilities(ev('t', 1, { internals: { probabilities: { dtype: 'float32', shape: [2], data: [1, 3] } } }))).toEqual([
      0.25, 0.75,
    ])
  })

  it('disagreement ranks primaries whose shadows differ most', async () => {
    const picks = await selectForReview(
      [
        { event: ev('p1', { probabilities: [0.9, 0.1] }), shadows: [ev('s1', { probabilities: [0.2, 0.8] })] },
        { event: ev('p2', { probabilities: [0.6, 0.4] }), shadows: [ev('s2', { probabilities: [0.5, 0.5] })] },
        { event: ev('p3', { label: 'cat' }), shadows: [ev('s3', { label: 'dog' })] },
        { event: ev('p4', { label: 'cat' }) },
      ],
      { strategy: 'disagreement', limit: 10 },
    )
    expect(picks.map((p) => p.id)).toEqual(['p3', 'p1', 'p2'])
    expect(picks[1]!.score).toBeCloseTo(0.7)
  })
})

describe('Label Studio round trip', () => {
  it('exports tasks and imports annotations as annotator feedback, reporting unknown tasks', () => {
    const tasks = toLabelStudioTasks([ev('a', 1), ev('b', 2)], { queue: 'q', scores: new Map([['a', 0.4]]) })
    expect(tasks[0]).toEqual({
      data: { event_id: 'a', queue: 'q', text: 't a', input: { text: 't a' }, output: 1, model: { name: 'm', version: '1' } },
      meta: { inferlog_event_id: 'a', score: 0.4 },
    })
    const exported = [
      {
        id: 1,
        data: tasks[0]!.data,
        annotations: [
          {
            id: 10,
            completed_by: { id: 3, email: 'ann@x' },
            updated_at: '2026-11-02T10:00:00Z',
            result: [{ type: 'choices', value: { choices: ['true'] } }],
          },
        ],
      },
      {
        id: 2,
        data: tasks[1]!.data,
        annotations: [
          { id: 11, completed_by: 4, result: [{ value: { rating: 4 } }] },
          { id: 12, was_cancelled: true, result: [] },
        ],
      },
      { id: 3, data: { event_id: 'zzz' }, annotations: [] },
      { id: 4, data: {} },
    ]
    const imported = fromLabelStudio(exported, { name: 'label', queue: new Set(['a', 'b']) })
    expect(imported.feedback).toEqual([
      {
        id: expect.stringMatching(/^ls-[0-9a-f]{40}$/),
        event_id: 'a',
        name: 'label',
        value: 'true',
        source: { type: 'annotator', id: 'ann@x' },
        ts: '2026-11-02T10:00:00.000Z',
      },
      { id: expect.stringMatching(/^ls-/), event_id: 'b', name: 'label', value: 4, source: { type: 'annotator', id: '4' } },
    ])
    expect(imported.unknown).toEqual([
      { task: 3, reason: 'event zzz is not in the queue' },
      { task: 4, reason: 'no data.event_id' },
    ])
    expect(imported.skipped).toBe(1)
    expect(fromLabelStudio(exported, { name: 'label', queue: new Set(['a', 'b']) }).feedback.map((f) => f.id)).toEqual(
      imported.feedback.map((f) => f.id),
    )
    expect(() => fromLabelStudio({}, { name: 'l', queue: new Set() })).toThrow(expect.objectContaining({ code: 'invalid_input' }))
  })
})
