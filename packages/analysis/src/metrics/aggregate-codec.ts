import { QuantileSketch } from '../sketch/index.js'
import { emptyMoments, type Tally, type WeightedMoments } from '../stats/index.js'
import { type CalibrationBin, cellIndexes, cellKey, emptyCalibration, type LabelAggregate } from './label-aggregate.js'
import { createMetricsAggregate, LATENCY_PHASES, type MetricsAggregate } from './metrics-aggregate.js'
import { MonitoringError } from './monitoring-error.js'
import { setOwn } from './own-key.js'

/**
 * The JSON form of a {@link MetricsAggregate} (format `v: 1`), short keys and unit-weight
 * shortcuts to keep bucket rows small:
 *
 * - a tally is `n` when every weight was 1 (n = Σw = Σw²), else `[n, Σw, Σw²]`;
 * - moments are `[n, Σx, Σx²]` with unit weights, else `[n, Σw, Σw², Σwx, Σwx², Σw²x, Σw²x²]`;
 * - `e` events, `x` errors, `ti`/`to` weighted token sums, `c` cost moments;
 * - `l`: phase → `[sketch (base64 of QuantileSketch.encode), moments, p50, p90, p99]`; the stored quantiles
 *   answer a point of this one row without decoding its sketch (they are ignored once the sketch changes);
 * - `q`: label → `{l: labeled, cm: [classes, [[actual, predicted, ...tally]]], cb: [[bin, n, (Σw,) Σw·conf, Σw·correct]],
 *   br: brier moments, ae/se: |error| and error² moments, va: value moments, po: [positives, all]}`;
 * - `cv`: conversion name → tally. Empty parts are omitted.
 */
export type AggregateJson = { v: 1 } & Record<string, unknown>

/** Quantiles written beside each latency sketch: the ones a metrics point reports. */
export const STORED_QUANTILES: readonly number[] = [0.5, 0.9, 0.99]

type TallyJson = number | [number, number, number]
type MomentsJson = [number, number, number] | [number, number, number, number, number, number, number]

function tallyToJson(t: Tally): TallyJson {
  return t.w === t.n && t.w2 === t.n ? t.n : [t.n, t.w, t.w2]
}

function momentsToJson(m: WeightedMoments): MomentsJson {
  if (m.w === m.n && m.w2 === m.n && m.w2x === m.wx && m.w2x2 === m.wx2) return [m.n, m.wx, m.wx2]
  return [m.n, m.w, m.w2, m.wx, m.wx2, m.w2x, m.w2x2]
}

function fail(what: string): never {
  throw new MonitoringError('invalid_aggregate', `cannot read aggregate: ${what}`)
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${what} is not a number`)
  return v
}

function tallyFromJson(v: unknown, what: string): Tally {
  if (typeof v === 'number') return { n: num(v, what), w: v, w2: v }
  if (Array.isArray(v) && v.length === 3) return { n: num(v[0], what), w: num(v[1], what), w2: num(v[2], what) }
  fail(`${what} is not a tally`)
}

function momentsFromJson(v: unknown, what: string): WeightedMoments {
  if (!Array.isArray(v)) fail(`${what} is not moments`)
  const x = v.map((e) => num(e, what))
  if (x.length === 3) {
    const [n, wx, wx2] = x as [number, number, number]
    return { n, w: n, w2: n, wx, wx2, w2x: wx, w2x2: wx2 }
  }
  if (x.length === 7) {
    const [n, w, w2, wx, wx2, w2x, w2x2] = x as [number, number, number, number, number, number, number]
    return { n, w, w2, wx, wx2, w2x, w2x2 }
  }
  fail(`${what} is not moments`)
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function labelToJson(la: LabelAggregate): Record<string, unknown> {
  const o: Record<string, unknown> = { l: tallyToJson(la.labeled) }
  if (la.confusion && la.confusion.cells.size > 0) {
    const cells: unknown[] = []
    for (const [key, t] of la.confusion.cells) {
      const tj = tallyToJson(t)
      cells.push([...cellIndexes(key), ...(typeof tj === 'number' ? [tj] : tj)])
    }
    o.cm = [la.confusion.classes, cells]
  }
  if (la.calibration && la.calibration.brier.n > 0) {
    const bins: number[][] = []
    la.calibration.bins.forEach((b, i) => {
      if (b.n === 0) return
      bins.push(b.w === b.n ? [i, b.n, b.wConf, b.wCorrect] : [i, b.n, b.w, b.wConf, b.wCorrect])
    })
    o.cb = bins
    o.br = momentsToJson(la.calibration.brier)
  }
  if (la.absError && la.absError.n > 0) o.ae = momentsToJson(la.absError)
  if (la.sqError && la.sqError.n > 0) o.se = momentsToJson(la.sqError)
  if (la.values && la.values.n > 0) o.va = momentsToJson(la.values)
  if (la.positives && la.positives.all.n > 0) o.po = [tallyToJson(la.positives.pos), tallyToJson(la.positives.all)]
  return o
}

function labelFromJson(v: unknown, what: string): LabelAggregate {
  if (!isRecord(v)) fail(`${what} is not an object`)
  const la: LabelAggregate = { labeled: tallyFromJson(v.l, `${what}.l`) }
  if (v.cm !== undefined) {
    const cm = v.cm
    if (!Array.isArray(cm) || cm.length !== 2 || !Array.isArray(cm[0]) || !Array.isArray(cm[1])) fail(`${what}.cm`)
    const classes = (cm[0] as unknown[]).map((c) => (typeof c === 'string' ? c : fail(`${what}.cm classes`)))
    const cells = new Map<number, Tally>()
    for (const cell of cm[1] as unknown[]) {
      if (!Array.isArray(cell) || (cell.length !== 3 && cell.length !== 5)) fail(`${what}.cm cell`)
      const a = num(cell[0], `${what}.cm`)
      const p = num(cell[1], `${what}.cm`)
      if (!(a >= 0 && a < classes.length && p >= 0 && p < classes.length)) fail(`${what}.cm cell index`)
      cells.set(cellKey(a, p), tallyFromJson(cell.length === 3 ? cell[2] : cell.slice(2), `${what}.cm`))
    }
    la.confusion = { classes, cells }
  }
  if (v.cb !== undefined) {
    const cal = emptyCalibration()
    if (!Array.isArray(v.cb)) fail(`${what}.cb`)
    for (const b of v.cb as unknown[]) {
      if (!Array.isArray(b) || (b.length !== 4 && b.length !== 5)) fail(`${what}.cb bin`)
      const x = b.map((e) => num(e, `${what}.cb`))
      const bin = cal.bins[x[0] as number] as CalibrationBin | undefined
      if (!bin) fail(`${what}.cb bin index`)
      bin.n = x[1] as number
      bin.w = x.length === 4 ? bin.n : (x[2] as number)
      bin.wConf = x[x.length - 2] as number
      bin.wCorrect = x[x.length - 1] as number
    }
    cal.brier = v.br === undefined ? emptyMoments() : momentsFromJson(v.br, `${what}.br`)
    la.calibration = cal
  }
  if (v.ae !== undefined) la.absError = momentsFromJson(v.ae, `${what}.ae`)
  if (v.se !== undefined) la.sqError = momentsFromJson(v.se, `${what}.se`)
  if (v.va !== undefined) la.values = momentsFromJson(v.va, `${what}.va`)
  if (v.po !== undefined) {
    if (!Array.isArray(v.po) || v.po.length !== 2) fail(`${what}.po`)
    la.positives = { pos: tallyFromJson(v.po[0], `${what}.po`), all: tallyFromJson(v.po[1], `${what}.po`) }
  }
  return la
}

/** The JSON form of an aggregate (see {@link AggregateJson}); for a JSON/JSONB column. */
export function aggregateToJson(agg: MetricsAggregate): AggregateJson {
  const o: AggregateJson = { v: 1, e: tallyToJson(agg.events) }
  if (agg.errors.n > 0) o.x = tallyToJson(agg.errors)
  if (agg.inputTokens !== 0) o.ti = agg.inputTokens
  if (agg.outputTokens !== 0) o.to = agg.outputTokens
  if (agg.cost.n > 0) o.c = momentsToJson(agg.cost)
  const lat: Record<string, unknown> = {}
  let anyLat = false
  for (const phase of LATENCY_PHASES) {
    const p = agg.latency[phase]
    if (!p || p.moments.n === 0) continue
    lat[phase] = [p.sketch.toBase64(), momentsToJson(p.moments), ...p.sketch.quantiles(STORED_QUANTILES)]
    anyLat = true
  }
  if (anyLat) o.l = lat
  if (agg.labels.size > 0) {
    const q: Record<string, unknown> = {}
    for (const [name, la] of agg.labels) if (la.labeled.n > 0) setOwn(q, name, labelToJson(la))
    o.q = q
  }
  if (agg.conversions.size > 0) {
    const cv: Record<string, unknown> = {}
    for (const [name, t] of agg.conversions) if (t.n > 0) setOwn(cv, name, tallyToJson(t))
    o.cv = cv
  }
  return o
}

/**
 * Reads {@link aggregateToJson}'s output. Latency sketches are decoded on first use (rows read
 * for counts and means never pay for them); a corrupt sketch then throws `RangeError`.
 *
 * @throws MonitoringError `invalid_aggregate` when the value is not a version-1 aggregate
 */
export function aggregateFromJson(json: unknown): MetricsAggregate {
  if (!isRecord(json) || json.v !== 1) fail('not a version-1 aggregate')
  const agg = createMetricsAggregate()
  agg.events = tallyFromJson(json.e, 'e')
  if (json.x !== undefined) agg.errors = tallyFromJson(json.x, 'x')
  if (json.ti !== undefined) agg.inputTokens = num(json.ti, 'ti')
  if (json.to !== undefined) agg.outputTokens = num(json.to, 'to')
  if (json.c !== undefined) agg.cost = momentsFromJson(json.c, 'c')
  if (json.l !== undefined) {
    if (!isRecord(json.l)) fail('l')
    for (const phase of LATENCY_PHASES) {
      const p = json.l[phase]
      if (p === undefined) continue
      if (!Array.isArray(p) || (p.length !== 2 && p.length !== 2 + STORED_QUANTILES.length) || typeof p[0] !== 'string') fail(`l.${phase}`)
      const known =
        p.length > 2 ? { qs: STORED_QUANTILES, values: STORED_QUANTILES.map((_, i) => num(p[2 + i], `l.${phase} quantile`)) } : undefined
      agg.latency[phase] = { sketch: QuantileSketch.fromBase64(p[0] as string, {}, known), moments: momentsFromJson(p[1], `l.${phase}`) }
    }
  }
  if (json.q !== undefined) {
    if (!isRecord(json.q)) fail('q')
    for (const [name, v] of Object.entries(json.q)) agg.labels.set(name, labelFromJson(v, `q.${name}`))
  }
  if (json.cv !== undefined) {
    if (!isRecord(json.cv)) fail('cv')
    for (const [name, v] of Object.entries(json.cv)) agg.conversions.set(name, tallyFromJson(v, `cv.${name}`))
  }
  return agg
}

/** The aggregate as JSON text (a TEXT/BLOB column). */
export function encodeAggregate(agg: MetricsAggregate): string {
  return JSON.stringify(aggregateToJson(agg))
}

/**
 * Reads {@link encodeAggregate}'s output.
 *
 * @throws MonitoringError `invalid_aggregate` on malformed text
 */
export function decodeAggregate(text: string): MetricsAggregate {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    fail('not JSON')
  }
  return aggregateFromJson(json)
}
