/**
 * A figure with its confidence interval, the shape every interval takes in replies
 * (`{"value", "ci_low", "ci_high"}`). Bounds are `null` when the sample cannot support an
 * interval (for instance a mean of one observation).
 */
export interface IntervalEstimate {
  value: number
  ci_low: number | null
  ci_high: number | null
}

/** Options shared by interval functions. */
export interface IntervalOptions {
  /** Two-sided confidence level in (0, 1). Default 0.95. */
  confidence?: number
}

/** Alternative hypothesis of a test on a difference `b − a`. */
export type Alternative = 'two-sided' | 'less' | 'greater'

/** Clamp to [lo, hi]. */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x
}
