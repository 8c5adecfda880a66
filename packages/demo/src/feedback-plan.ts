import type { SeededRandom } from './seeded-random.js'
import type { WeatherLabel } from './weather-data.js'

/** One feedback item to send later. */
export interface PlannedFeedback {
  name: 'label' | 'thumbs'
  value: string | number
  /** How long after the prediction it is sent, ms (already divided by the speed). */
  delayMs: number
  source: { type: 'system' | 'user'; id: string }
}

/** Shares and delays of the demo's feedback. */
export interface FeedbackPolicy {
  /** Share of predictions whose observed weather comes back as a `label`. Default 0.7. */
  labelShare: number
  /** Label delay: this minimum plus an exponential with `labelMeanMs`, capped at `labelMaxMs`. Defaults 2 s, 12 s, 150 s. */
  labelMinMs: number
  labelMeanMs: number
  labelMaxMs: number
  /** Share of predictions a user rates with `thumbs` (+1 right, -1 wrong). Default 0.25. */
  thumbsShare: number
  /** Share of thumbs that say the opposite of what happened (people misclick). Default 0.1. */
  thumbsNoise: number
  /** Thumbs come between these delays, ms. Defaults 0.5 s and 4 s. */
  thumbsMinMs: number
  thumbsMaxMs: number
}

/** Defaults of {@link FeedbackPolicy}. */
export const DEFAULT_FEEDBACK_POLICY: FeedbackPolicy = {
  labelShare: 0.7,
  labelMinMs: 2_000,
  labelMeanMs: 12_000,
  labelMaxMs: 150_000,
  thumbsShare: 0.25,
  thumbsNoise: 0.1,
  thumbsMinMs: 500,
  thumbsMaxMs: 4_000,
}

/**
 * The feedback one prediction will get, late and partial: the observed weather on some (seconds to
 * minutes later, from the weather station), a user's thumbs on fewer (within seconds).
 */
export function planFeedback(
  rng: SeededRandom,
  o: { predicted: WeatherLabel; observed: WeatherLabel; userId: string; speed: number; policy?: FeedbackPolicy },
): PlannedFeedback[] {
  const p = o.policy ?? DEFAULT_FEEDBACK_POLICY
  const out: PlannedFeedback[] = []
  if (rng.chance(p.labelShare)) {
    const delay = Math.min(p.labelMaxMs, p.labelMinMs + rng.exponential(p.labelMeanMs))
    out.push({ name: 'label', value: o.observed, delayMs: delay / o.speed, source: { type: 'system', id: 'weather-station' } })
  }
  if (rng.chance(p.thumbsShare)) {
    const right = o.predicted === o.observed
    const says = rng.chance(p.thumbsNoise) ? !right : right
    out.push({
      name: 'thumbs',
      value: says ? 1 : -1,
      delayMs: rng.between(p.thumbsMinMs, p.thumbsMaxMs) / o.speed,
      source: { type: 'user', id: o.userId },
    })
  }
  return out
}
