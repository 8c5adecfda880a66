import {
  type CbpeCalibration,
  compileFieldPath,
  estimatePerformance,
  fitCbpeCalibration,
  type MetricsPoint,
  realizedPerformance,
  weightOf,
} from '@inferlog/analysis'
import { InferlogError } from '../errors.js'
import type { EventFilter, LogScanner } from '../store/store.js'
import { binaryReader, classesReader, MAX_ESTIMATION_ROWS, type ProbabilitySource } from './estimation-service.js'
import { bucketStart, type Grain } from './metric-rows.js'
import type { BucketName, MetricsQuery, MetricsSeries } from './metrics-query.js'

/** What `GET /v1/metrics?estimate=LABEL&score=PATH` (or `probabilities=PATH`) asks for. */
export interface EstimateRequest extends ProbabilitySource {
  /** Feedback name of the label whose performance is estimated. */
  label: string
  /** Labelled window the calibration is fitted on; default the queried window's own labelled events. */
  reference?: { fromMs: number; toMs: number }
}

/** Labelled rows needed to fit a calibration; with fewer, the raw probabilities are used as they are. */
export const MIN_CALIBRATION_ROWS = 10

/** One estimate of a point: `estimated.LABEL` of the metrics reply. */
export interface EstimatedFigures {
  /** Σw of the events with probabilities in the bucket. */
  n: number
  accuracy: number
  precision?: number
  recall?: number
  f1?: number
  precision_macro: number
  recall_macro: number
  f1_macro: number
  /** Whether the isotonic calibration fitted on the reference is applied. */
  calibrated: boolean
  /** Labelled events the calibration was fitted on. */
  n_reference: number
  /** The same figures from the bucket's labelled events (same probabilities, same threshold), when it has some. */
  realized?: {
    n: number
    accuracy: number
    accuracy_ci: [number, number]
    precision?: number
    recall?: number
    f1?: number
    f1_macro: number
  }
}

const GRAIN: Record<Exclude<BucketName, 'all'>, Grain> = { minute: 'm', hour: 'h', day: 'd' }
const GROUPABLE = new Set(['version', 'stage', 'arm', 'endpoint'])

interface Captured {
  /** Value at the probability path. */
  pv: unknown
  label: unknown
  group: string
  start: number
  w: number
}

/**
 * Label-free performance estimates per metrics point (CBPE, as `POST /v1/estimate`), so a
 * classifier's estimated accuracy, precision, recall and F1 sit beside the realized `quality`
 * figures of the same bucket as labels arrive. Reads raw rows of the window (at most
 * {@link MAX_ESTIMATION_ROWS}), only when a request asks for it: the buckets never hold them.
 */
export class MetricsEstimates {
  constructor(private readonly log: Pick<LogScanner, 'scanEvents' | 'feedbackForEvents' | 'commitHead'>) {}

  private filterOf(q: MetricsQuery, fromMs: number, toMs: number): EventFilter {
    const f: EventFilter = { fromMs, toMs }
    if (q.model !== undefined) f.model = q.model
    if (q.versions !== undefined) f.versions = q.versions
    if (q.stage !== undefined) f.stage = q.stage
    if (q.arm !== undefined) f.arm = q.arm
    return f
  }

  private async capture(project: string, q: MetricsQuery, r: EstimateRequest, fromMs: number, toMs: number, upTo: number) {
    const get = compileFieldPath(r.score ?? r.probabilities!)
    const rows: Captured[] = []
    for await (const chunk of this.log.scanEvents(project, this.filterOf(q, fromMs, toMs), { upTo }, 1000)) {
      const latest = new Map<string, { ts: number; seq: number; value: unknown }>()
      for (const fb of await this.log.feedbackForEvents(
        project,
        chunk.map((e) => e.id),
        upTo,
      )) {
        if (fb.name !== r.label) continue
        const cur = latest.get(fb.eventId)
        if (!cur || fb.tsMs > cur.ts || (fb.tsMs === cur.ts && fb.seq > cur.seq))
          latest.set(fb.eventId, { ts: fb.tsMs, seq: fb.seq, value: (JSON.parse(fb.body) as { value: unknown }).value })
      }
      for (const e of chunk) {
        const body = JSON.parse(e.body) as { model?: { endpoint?: unknown }; sample_rate?: number }
        const endpoint = typeof body.model?.endpoint === 'string' ? body.model.endpoint : null
        if (q.endpoint !== undefined && endpoint !== q.endpoint) continue
        const pv = get(body)
        if (pv === undefined || pv === null) continue
        if (rows.length >= MAX_ESTIMATION_ROWS)
          throw new InferlogError('invalid_parameter', `estimate reads at most ${MAX_ESTIMATION_ROWS} events; narrow the window`)
        const group: Record<string, string | null> = {}
        if (q.model === undefined) group.model = e.model
        for (const g of q.groupBy) group[g] = g === 'endpoint' ? endpoint : g === 'version' ? e.version : g === 'stage' ? e.stage : e.arm
        rows.push({
          pv,
          label: latest.get(e.id)?.value,
          group: JSON.stringify(group),
          start: q.bucket === 'all' ? q.fromMs : bucketStart(e.tsMs, GRAIN[q.bucket]),
          w: weightOf(body.sample_rate),
        })
      }
    }
    return rows
  }

  /** Adds `estimated: {LABEL: ...}` to every point of `reply` whose bucket has events with probabilities. */
  async attach(project: string, q: MetricsQuery, reply: { series: MetricsSeries[] }, r: EstimateRequest): Promise<void> {
    if ((r.score === undefined) === (r.probabilities === undefined))
      throw new InferlogError('invalid_parameter', 'estimate needs exactly one of score (binary) or probabilities (multiclass)')
    const other = q.groupBy.find((g) => !GROUPABLE.has(g))
    if (other) throw new InferlogError('invalid_parameter', `estimate groups by version, stage, arm or endpoint, not ${other}`)
    const upTo = await this.log.commitHead()
    const current = await this.capture(project, q, r, q.fromMs, q.toMs, upTo)
    const reference = r.reference ? await this.capture(project, q, r, r.reference.fromMs, r.reference.toMs, upTo) : current
    const reader = r.score !== undefined ? binaryReader('v', r.positive) : classesReader('v', classNames([...reference, ...current]))
    if (reader.classes < 2) return
    const probs = (c: Captured) => reader.probs({ v: c.pv })
    const pack = (ps: number[][]) => ({
      classes: reader.classes,
      values: Float64Array.from(reader.classes === 2 ? ps.map((p) => p[1]!) : ps.flat()),
    })
    const ref = reference.map((c) => ({ p: probs(c), y: reader.label(c.label) })).filter((x) => x.p !== undefined && x.y !== undefined)
    const calibration: CbpeCalibration =
      ref.length >= MIN_CALIBRATION_ROWS
        ? fitCbpeCalibration(
            pack(ref.map((x) => x.p!)),
            ref.map((x) => x.y!),
          )
        : { classes: reader.classes, calibrated: false, brier: { raw: Number.NaN, calibrated: Number.NaN } }
    const cells = new Map<string, { p: number[]; y: number | undefined; w: number }[]>()
    for (const c of current) {
      const p = probs(c)
      if (!p) continue
      const key = `${c.group}\n${c.start}`
      let cell = cells.get(key)
      if (!cell) cells.set(key, (cell = []))
      cell.push({ p, y: reader.label(c.label), w: c.w })
    }
    for (const s of reply.series) {
      const g = JSON.stringify(s.group)
      for (const point of s.points as (MetricsPoint & { estimated?: Record<string, EstimatedFigures> })[]) {
        const cell = cells.get(`${g}\n${Date.parse(point.start)}`)
        if (!cell) continue
        const est = estimatePerformance(calibration, pack(cell.map((x) => x.p)), { weights: cell.map((x) => x.w) })
        const figures: EstimatedFigures = {
          n: est.n,
          accuracy: est.accuracy,
          ...(est.precision !== undefined ? { precision: est.precision, recall: est.recall!, f1: est.f1! } : {}),
          precision_macro: est.precision_macro,
          recall_macro: est.recall_macro,
          f1_macro: est.f1_macro,
          calibrated: calibration.calibrated,
          n_reference: ref.length,
        }
        const labelled = cell.filter((x) => x.y !== undefined)
        if (labelled.length > 0) {
          const real = realizedPerformance(
            labelled.map((x) => x.y!),
            labelled.map((x) => (reader.classes === 2 ? (x.p[1]! >= 0.5 ? 1 : 0) : argmax(x.p))),
            reader.classes,
            labelled.map((x) => x.w),
          )
          figures.realized = {
            n: real.n,
            accuracy: real.accuracy,
            accuracy_ci: real.accuracy_ci,
            ...(real.precision !== undefined ? { precision: real.precision, recall: real.recall!, f1: real.f1! } : {}),
            f1_macro: real.f1_macro,
          }
        }
        point.estimated = { ...point.estimated, [r.label]: figures }
      }
    }
  }
}

function classNames(rows: Captured[]): string[] {
  const names = new Set<string>()
  for (const r of rows) if (r.pv && typeof r.pv === 'object' && !Array.isArray(r.pv)) for (const k of Object.keys(r.pv)) names.add(k)
  return [...names]
}

function argmax(p: number[]): number {
  let best = 0
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i
  return best
}
