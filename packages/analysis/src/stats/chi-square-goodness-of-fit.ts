import { chiSquareSurvival } from './distributions.js'

/** A chi-square test result. */
export interface ChiSquareGoodnessOfFit {
  statistic: number
  df: number
  p_value: number
}

/**
 * Pearson's chi-square goodness-of-fit test of observed counts against expected proportions
 * (normalized to the observed total), df = categories − 1. Matches scipy's `chisquare(f_obs, f_exp)`.
 *
 * @throws RangeError when lengths differ, fewer than two categories, or an expected share is not positive
 */
export function chiSquareGoodnessOfFit(observed: readonly number[], expectedShares: readonly number[]): ChiSquareGoodnessOfFit {
  if (observed.length !== expectedShares.length || observed.length < 2) throw new RangeError('need two or more categories of equal length')
  const total = observed.reduce((s, x) => s + x, 0)
  const shareSum = expectedShares.reduce((s, x) => s + x, 0)
  let statistic = 0
  for (let i = 0; i < observed.length; i++) {
    const share = expectedShares[i] as number
    if (!(share > 0)) throw new RangeError('expected shares must be positive')
    const e = (total * share) / shareSum
    const d = (observed[i] as number) - e
    statistic += e > 0 ? (d * d) / e : 0
  }
  const df = observed.length - 1
  return { statistic, df, p_value: total > 0 ? chiSquareSurvival(statistic, df) : 1 }
}

/** Options of {@link sampleRatioMismatch}. */
export interface SampleRatioMismatchOptions {
  /** Share of traffic expected in group a, in (0, 1). Default 0.5. */
  expectedSplit?: number
  /** p-value below which the split is called a mismatch. Default 0.001, the usual SRM alarm level. */
  alpha?: number
  /**
   * Mean sample rates of the logged events of each group (stored events / Σ 1/sample_rate). When
   * the groups were logged at different rates, the expected share of *stored* events is
   * split·r_a / (split·r_a + (1 − split)·r_b). Default 1 for both.
   */
  sampleRates?: { a: number; b: number }
}

/** Sample ratio mismatch check: `{p_value, mismatch}` plus what was compared. */
export interface SampleRatioMismatch {
  p_value: number
  mismatch: boolean
  /** Expected share of stored events in a after the sample-rate adjustment. */
  expected_share: number
  /** Observed share of stored events in a. */
  observed_share: number | null
}

/**
 * Sample ratio mismatch (SRM): a chi-square test of the stored event counts of a and b against the
 * expected split. Counts, not weights: the test needs the counts that were actually drawn, and the
 * `sampleRates` adjustment handles groups logged at different rates.
 */
export function sampleRatioMismatch(nA: number, nB: number, options: SampleRatioMismatchOptions = {}): SampleRatioMismatch {
  const split = options.expectedSplit ?? 0.5
  if (!(split > 0 && split < 1)) throw new RangeError(`expectedSplit must be in (0, 1), got ${split}`)
  const ra = options.sampleRates?.a ?? 1
  const rb = options.sampleRates?.b ?? 1
  const share = (split * ra) / (split * ra + (1 - split) * rb)
  const total = nA + nB
  if (total === 0) return { p_value: 1, mismatch: false, expected_share: share, observed_share: null }
  const { p_value } = chiSquareGoodnessOfFit([nA, nB], [share, 1 - share])
  return { p_value, mismatch: p_value < (options.alpha ?? 0.001), expected_share: share, observed_share: nA / total }
}
