import {
  type Column,
  compileFieldPath,
  type ConceptDriftResult,
  conceptDrift,
  createColumnBuilder,
  estimatePerformance,
  fitCbpeCalibration,
  realizedPerformance,
} from '@inferlog/analysis'
import { InferlogError } from '../errors.js'
import type { EventFilter, LogScanner } from '../store/store.js'

/** Most events one window of an estimate or a concept-drift analysis reads. Default 500 000. */
export const MAX_ESTIMATION_ROWS = 500_000

/** How a classifier's probabilities are read from its events. */
export interface ProbabilitySource {
  /** Binary: path of the positive class's probability, e.g. `output.score`. */
  score?: string
  /** Multiclass: path of an object class → probability, e.g. `output.probabilities`. */
  probabilities?: string
  /** Binary: the label value that means the positive class. Default `true` (also `1`, `"1"`, `"true"`, `"yes"`). */
  positive?: string | number | boolean
}

interface Row {
  event: unknown
  /** The effective (latest) label of the requested name, if any. */
  label: unknown
}

const TRUTHY = new Set(['1', 'true', 'yes', 'positive'])

/**
 * Performance estimation before labels arrive (CBPE: the expected confusion matrix from the
 * probabilities, calibrated on a labelled reference window when that improves them) and concept
 * drift (whether the model's mistakes moved per bin of an input field between two labelled
 * windows). Both read raw rows with their labels (the latest feedback of the name, by its time).
 */
export class EstimationService {
  constructor(private readonly log: Pick<LogScanner, 'scanEvents' | 'feedbackForEvents' | 'commitHead'>) {}

  private async window(project: string, f: EventFilter, label: string, upTo: number): Promise<Row[]> {
    const rows: Row[] = []
    for await (const chunk of this.log.scanEvents(project, f, { upTo }, 1000)) {
      if (rows.length + chunk.length > MAX_ESTIMATION_ROWS)
        throw new InferlogError('invalid_parameter', `a window holds more than ${MAX_ESTIMATION_ROWS} events; narrow it`)
      const latest = new Map<string, { ts: number; seq: number; value: unknown }>()
      for (const fb of await this.log.feedbackForEvents(
        project,
        chunk.map((e) => e.id),
        upTo,
      )) {
        if (fb.name !== label) continue
        const cur = latest.get(fb.eventId)
        if (!cur || fb.tsMs > cur.ts || (fb.tsMs === cur.ts && fb.seq > cur.seq))
          latest.set(fb.eventId, { ts: fb.tsMs, seq: fb.seq, value: (JSON.parse(fb.body) as { value: unknown }).value })
      }
      for (const e of chunk) rows.push({ event: JSON.parse(e.body), label: latest.get(e.id)?.value })
    }
    return rows
  }

  /** Estimated accuracy, precision, recall and F1 of the current window, beside the realized ones where labels exist. */
  async estimate(project: string, reference: EventFilter, current: EventFilter, label: string, src: ProbabilitySource) {
    if ((src.score === undefined) === (src.probabilities === undefined))
      throw new InferlogError('invalid_parameter', 'give exactly one of score (binary) or probabilities (multiclass)')
    const upTo = await this.log.commitHead()
    const [ref, cur] = await Promise.all([this.window(project, reference, label, upTo), this.window(project, current, label, upTo)])
    const reader = src.score !== undefined ? binaryReader(src.score, src.positive) : multiclassReader(src.probabilities!, [...ref, ...cur])
    const refRows = ref
      .map((r) => ({ p: reader.probs(r.event), y: reader.label(r.label) }))
      .filter((r) => r.p !== undefined && r.y !== undefined)
    if (refRows.length < 10)
      throw new InferlogError(
        'invalid_parameter',
        `the reference window has ${refRows.length} labelled events with probabilities; at least 10 are needed`,
      )
    const k = reader.classes
    const pack = (ps: number[][]) => ({ classes: k, values: Float64Array.from(k === 2 ? ps.map((p) => p[1]!) : ps.flat()) })
    const calibration = fitCbpeCalibration(
      pack(refRows.map((r) => r.p!)),
      refRows.map((r) => r.y!),
    )
    const curRows = cur.map((r) => ({ p: reader.probs(r.event), y: reader.label(r.label) })).filter((r) => r.p !== undefined)
    if (curRows.length === 0) throw new InferlogError('invalid_parameter', 'the current window has no events with probabilities')
    const estimated = estimatePerformance(calibration, pack(curRows.map((r) => r.p!)))
    const labelled = curRows.filter((r) => r.y !== undefined)
    const predictions = labelled.map((r) => argmax(r.p!))
    return {
      label,
      classes: reader.names,
      n_reference: refRows.length,
      n_current: curRows.length,
      n_current_labeled: labelled.length,
      calibration: { calibrated: calibration.calibrated, brier: calibration.brier },
      estimated,
      ...(labelled.length > 0
        ? {
            realized: realizedPerformance(
              labelled.map((r) => r.y!),
              predictions,
              k,
            ),
          }
        : {}),
    }
  }

  /** Per field: did the error rate move between the windows in any of the field's bins (chi-squared per bin, BH-corrected)? */
  async conceptDrift(
    project: string,
    reference: EventFilter,
    current: EventFilter,
    label: string,
    output: string,
    fields: readonly string[],
    bins: number,
  ) {
    const upTo = await this.log.commitHead()
    const [ref, cur] = await Promise.all([this.window(project, reference, label, upTo), this.window(project, current, label, upTo)])
    const predicted = compileFieldPath(output)
    const side = (rows: Row[]) => {
      const labelled = rows.filter((r) => r.label !== undefined && predicted(r.event) !== undefined)
      const correct = labelled.map((r) => (String(predicted(r.event)) === String(r.label) ? 1 : 0))
      const columns = new Map<string, Column>()
      for (const f of fields) {
        const get = compileFieldPath(f)
        const b = createColumnBuilder()
        for (const r of labelled) b.push(get(r.event))
        columns.set(f, b.finish())
      }
      return { n: labelled.length, correct, columns }
    }
    const a = side(ref)
    const b = side(cur)
    const results: ({ field: string } & (ConceptDriftResult | { error: { code: string; message: string } }))[] = []
    for (const f of fields) {
      try {
        results.push({ field: f, ...conceptDrift(a.columns.get(f)!, a.correct, b.columns.get(f)!, b.correct, { bins }) })
      } catch (e) {
        results.push({ field: f, error: { code: 'not_computable', message: (e as Error).message } })
      }
    }
    return {
      label,
      output,
      n_reference: a.n,
      n_current: b.n,
      error_rate: { reference: rate(a.correct), current: rate(b.correct) },
      fields: results,
    }
  }
}

const rate = (correct: number[]) => (correct.length ? correct.filter((c) => c === 0).length / correct.length : null)

function argmax(p: number[]): number {
  let best = 0
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i
  return best
}

/** How a binary classifier's probability and labels are read: `score` is the positive class's probability. */
export function binaryReader(path: string, positive: ProbabilitySource['positive']) {
  const get = compileFieldPath(path)
  return {
    classes: 2,
    names: ['negative', 'positive'],
    probs(e: unknown): number[] | undefined {
      const s = get(e)
      return typeof s === 'number' && s >= 0 && s <= 1 ? [1 - s, s] : undefined
    },
    label(v: unknown): number | undefined {
      if (v === undefined || v === null) return undefined
      if (positive !== undefined) return String(v) === String(positive) ? 1 : 0
      if (typeof v === 'boolean') return v ? 1 : 0
      if (typeof v === 'number') return v > 0 ? 1 : 0
      return TRUTHY.has(String(v).toLowerCase()) ? 1 : 0
    },
  }
}

function multiclassReader(path: string, rows: Row[]) {
  const get = compileFieldPath(path)
  const names = new Set<string>()
  for (const r of rows) {
    const o = get(r.event)
    if (o && typeof o === 'object' && !Array.isArray(o)) for (const k of Object.keys(o)) names.add(k)
  }
  return classesReader(path, [...names])
}

/** How a multiclass classifier's probabilities (`path`: an object class → probability) and labels are read, over these classes. */
export function classesReader(path: string, classNames: Iterable<string>) {
  const get = compileFieldPath(path)
  const list = [...classNames].sort()
  const index = new Map(list.map((n, i) => [n, i]))
  return {
    classes: list.length,
    names: list,
    probs(e: unknown): number[] | undefined {
      const o = get(e) as Record<string, unknown> | undefined
      if (!o || typeof o !== 'object') return undefined
      const p = list.map((n) => (typeof o[n] === 'number' ? (o[n] as number) : 0))
      const sum = p.reduce((x, y) => x + y, 0)
      return sum > 0 ? p.map((x) => x / sum) : undefined
    },
    label(v: unknown): number | undefined {
      return v === undefined || v === null ? undefined : index.get(String(v))
    },
  }
}
