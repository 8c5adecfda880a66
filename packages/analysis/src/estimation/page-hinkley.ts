/** Options of the Page–Hinkley detector (defaults as in River's `PageHinkley`). */
export interface PageHinkleyOptions {
  /** Tolerated increase of the mean before it counts (δ). Default 0.005. */
  delta?: number
  /** Alarm when the cumulative deviation exceeds its minimum by this much (λ). Default 50. */
  threshold?: number
  /** Observations before any alarm. Default 30. */
  minInstances?: number
  /** Forgetting factor of the cumulative sum (1 = none). Default 0.9999. */
  alpha?: number
}

/** Serializable state of a Page–Hinkley detector: store it as JSON between events. */
export interface PageHinkleyState {
  n: number
  mean: number
  sum: number
  min: number
  /** Observations since the last alarm. */
  alarms: number
}

/** An empty detector state. */
export function createPageHinkleyState(): PageHinkleyState {
  return { n: 0, mean: 0, sum: 0, min: 0, alarms: 0 }
}

/**
 * One step of the Page–Hinkley test for an increase of the mean (Page 1954; Hinkley 1971), fed
 * with per-event error indicators (1 = the labelled prediction was wrong) it alarms when the
 * error rate rises: mₜ = α·mₜ₋₁ + (xₜ − x̄ₜ − δ), alarm when mₜ − min mₜ > λ. After an alarm the
 * state restarts (counting the alarm). Pure: returns the next state and whether it alarmed.
 * With the defaults, a rise of the error rate by Δ is flagged after about λ/(Δ − δ) events.
 */
export function pageHinkleyUpdate(
  state: PageHinkleyState,
  x: number,
  options: PageHinkleyOptions = {},
): { state: PageHinkleyState; drift: boolean } {
  const delta = options.delta ?? 0.005
  const threshold = options.threshold ?? 50
  const minInstances = options.minInstances ?? 30
  const alpha = options.alpha ?? 0.9999
  const n = state.n + 1
  const mean = state.mean + (x - state.mean) / n
  const sum = alpha * state.sum + (x - mean - delta)
  const min = Math.min(state.min, sum)
  if (n >= minInstances && sum - min > threshold) {
    return { state: { ...createPageHinkleyState(), alarms: state.alarms + 1 }, drift: true }
  }
  return { state: { n, mean, sum, min, alarms: state.alarms }, drift: false }
}
