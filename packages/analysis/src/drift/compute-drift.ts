import type { Column, ColumnKind } from '../fields/column.js'
import { adjustPValues, type PValueCorrection } from './correction.js'
import { type DriftErrorCode, DriftFieldError } from './drift-error.js'
import { DRIFT_METHOD_INFO, isDrift } from './drift-methods.js'
import { type FieldDriftOptions, type FieldDriftRaw, fieldDrift } from './field-drift.js'

/** What to compute: the body of `POST /v1/drift` minus the windows. */
export interface DriftRequest {
  /** Field paths, in the order of the reply. */
  fields: readonly string[]
  /** Method per field (a contract method name); default Evidently's choice per field. */
  methods?: Readonly<Record<string, string>>
  /** Threshold per field; default the method's (see `DRIFT_METHOD_INFO`). */
  thresholds?: Readonly<Record<string, number>>
  /** Correction of the p-values across fields. Default `none`. */
  correction?: PValueCorrection
}

/** Options of {@link computeDrift}. */
export interface ComputeDriftOptions extends FieldDriftOptions {
  /** Share of drifting fields from which `dataset_drift` is true. Default 0.5 (Evidently). */
  datasetDriftShare?: number
}

/** One field's drift, as in the contract. */
export interface FieldDriftResult {
  field: string
  kind: ColumnKind
  method: string
  /**
   * The method's statistic: KS D, chi-squared, Z, normed Wasserstein, Jensen–Shannon distance, PSI,
   * mean-embedding distance, drifted-component share, MMD², ROC AUC. `null` stands for +∞ (a
   * chi-squared category absent from the reference), which JSON cannot carry.
   */
  statistic: number | null
  /** p-value of the test methods (`ks`, `chisquare`, `z`, `mmd`), corrected when a correction was asked. */
  p_value?: number
  /** The uncorrected p-value, present when a correction was applied. */
  p_value_raw?: number
  threshold: number
  drift: boolean
  n_reference: number
  n_current: number
  /** Rows used per window when an embedding method sampled. */
  sampled?: { reference: number; current: number }
}

/** A field that could not be computed. */
export interface FieldDriftError {
  field: string
  error: { code: DriftErrorCode; message: string }
}

/** The contract reply of `POST /v1/drift`. */
export interface DriftReport {
  fields: (FieldDriftResult | FieldDriftError)[]
  /** Drifting fields over computed fields (0 when none could be computed). */
  drift_share: number
  dataset_drift: boolean
}

/** True for an entry of {@link DriftReport.fields} that holds an error. */
export function isFieldDriftError(entry: FieldDriftResult | FieldDriftError): entry is FieldDriftError {
  return 'error' in entry
}

/**
 * Assembles a reply from per-field raw results: thresholds, optional multiple-testing correction
 * over the p-value methods, the drift decision per field, `drift_share` and `dataset_drift`.
 * Shared by exact and profile-based drift.
 */
export function assembleDriftReport(
  request: DriftRequest,
  raw: readonly (FieldDriftRaw | FieldDriftError)[],
  datasetDriftShare = 0.5,
): DriftReport {
  const correction = request.correction ?? 'none'
  const pIndex: number[] = []
  const pValues: number[] = []
  raw.forEach((r, i) => {
    if (!('error' in r) && r.pValue !== undefined) {
      pIndex.push(i)
      pValues.push(r.pValue)
    }
  })
  const adjusted = adjustPValues(pValues, correction)
  const adjustedAt = new Map<number, number>()
  pIndex.forEach((i, k) => adjustedAt.set(i, adjusted[k]!))
  let computed = 0
  let drifting = 0
  const fields = raw.map((r, i): FieldDriftResult | FieldDriftError => {
    if ('error' in r) return r
    const field = request.fields[i]!
    const info = DRIFT_METHOD_INFO[r.method]
    const threshold = request.thresholds?.[field] ?? info.threshold
    const p = adjustedAt.get(i)
    const decisive = info.pValue ? p! : r.statistic
    const drift = isDrift(info.rule, decisive, threshold)
    computed++
    if (drift) drifting++
    const out: FieldDriftResult = {
      field,
      kind: r.kind,
      method: r.method,
      statistic: Number.isFinite(r.statistic) ? r.statistic : null,
      threshold,
      drift,
      n_reference: r.nReference,
      n_current: r.nCurrent,
    }
    if (p !== undefined) {
      out.p_value = p
      if (correction !== 'none') out.p_value_raw = r.pValue
    }
    if (r.sampled) out.sampled = r.sampled
    return out
  })
  const share = computed === 0 ? 0 : drifting / computed
  return { fields, drift_share: share, dataset_drift: computed > 0 && share >= datasetDriftShare }
}

/**
 * Exact drift between two windows, field by field, with Evidently's conventions (documented in
 * packages/analysis/README.md). Each field's failure is a per-field error with a stable code; the others are
 * still computed. Pure and synchronous: the caller extracts the columns (`extractColumns`, or
 * typed blobs) and passes them keyed by field path.
 */
export function computeDrift(
  request: DriftRequest,
  reference: ReadonlyMap<string, Column>,
  current: ReadonlyMap<string, Column>,
  options: ComputeDriftOptions = {},
): DriftReport {
  const raw = request.fields.map((field): FieldDriftRaw | FieldDriftError => {
    try {
      return fieldDrift(reference.get(field), current.get(field), request.methods?.[field], options)
    } catch (e) {
      if (e instanceof DriftFieldError) return { field, error: { code: e.code, message: e.message } }
      throw e
    }
  })
  return assembleDriftReport(request, raw, options.datasetDriftShare)
}
