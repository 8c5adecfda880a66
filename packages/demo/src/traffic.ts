import type { Logger, Span } from '@inferlog/sdk'
import type { DelayedFeedback } from './delayed-feedback.js'
import { planFeedback } from './feedback-plan.js'
import { type Classifier, occlusionAttributions, toPrediction, type WeatherPrediction } from './models/classifier.js'
import { type DemoModels, MODEL_NAME } from './models/train-models.js'
import { SeededRandom } from './seeded-random.js'
import { FEATURE_NAMES, featuresOf, type WeatherDay, type WeatherSplits } from './weather-data.js'

/** The A/B experiment every primary event names in `context.experiment`. */
export const EXPERIMENT = 'weather-clf-rollout'

/** A/B arms: who is served by which model. */
export type Arm = 'control' | 'treatment'

interface User {
  id: string
  arm: Arm
  session: string
  sessionsSoFar: number
  requestsLeft: number
}

/** Options of {@link Traffic}. */
export interface TrafficOptions {
  /** Users in the pool, split into the arms at random from this seed (the same split for every Traffic of a seed). */
  seed: number
  /** Users in the pool. Default 400. */
  users?: number
  /** Session ids are `<user>-<sessionTag><n>`, so two Traffics of one seed never share a session. Default `s`. */
  sessionTag?: string
  /** Share of requests whose `wind` reading is missing (a sensor outage): the models refuse them (`status: error`). Default 0.01. */
  errorShare?: number
  /** Time compression of feedback delays. */
  speed: number
}

/** What one request did. */
export interface ServedRequest {
  id: string
  shadowId: string
  arm: Arm
  day: WeatherDay
  /** `null` when the model refused the input (an error event). */
  prediction: WeatherPrediction | null
}

/** A model's refusal of an input with a missing reading (logged as the event's `error.type`). */
export class MissingFeatureError extends Error {
  override readonly name = 'MissingFeatureError'
}

/**
 * One model-serving request at a time: picks a day from the current traffic (Seattle before the
 * shift, New York after), a user (and so an A/B arm), runs the arm's model and the shadow model,
 * logs both through the SDK with latency phases, attributions and context, and schedules the
 * feedback the prediction will get.
 */
export class Traffic {
  private readonly users: User[]
  private count = 0

  constructor(
    private readonly log: Logger,
    private readonly models: DemoModels,
    private readonly splits: WeatherSplits,
    private readonly feedback: DelayedFeedback,
    /** Every choice of a request: day, user, session length, feedback. */
    private readonly rng: SeededRandom,
    private readonly o: TrafficOptions,
  ) {
    const split = new SeededRandom(o.seed)
    this.users = Array.from({ length: o.users ?? 400 }, (_, i) => ({
      id: `user-${String(i + 1).padStart(4, '0')}`,
      arm: split.chance(0.5) ? 'control' : 'treatment',
      session: '',
      sessionsSoFar: 0,
      requestsLeft: 0,
    }))
  }

  /** Requests served so far. */
  get served(): number {
    return this.count
  }

  /**
   * Serves one request from the traffic of the given phase. `atMs` backdates it (a backfilled
   * request: `ts` and its feedback's times are set as if it had happened then); `sampleRate` marks
   * it as one kept of 1/sampleRate alike (default: every request logged).
   */
  serve(shifted: boolean, atMs?: number, sampleRate?: number): ServedRequest {
    const day = this.rng.pick(shifted ? this.splits.after : this.splits.before)
    const user = this.rng.pick(this.users)
    if (user.requestsLeft <= 0) {
      user.sessionsSoFar++
      user.session = `${user.id}-${this.o.sessionTag ?? 's'}${user.sessionsSoFar}`
      user.requestsLeft = 1 + Math.floor(this.rng.exponential(3))
    }
    user.requestsLeft--
    const features: (number | null)[] = featuresOf(day)
    if (this.rng.chance(this.o.errorShare ?? 0.01)) features[FEATURE_NAMES.indexOf('wind')] = null
    const common = {
      ...(atMs === undefined ? {} : { ts: new Date(atMs).toISOString() }),
      ...(sampleRate === undefined || sampleRate >= 1 ? {} : { sample_rate: sampleRate }),
      input: Object.fromEntries(FEATURE_NAMES.map((f, j) => [f, features[j] ?? null])),
      trace: { session_id: user.session, user_id: user.id },
      context: {
        entities: { city: day.city, date: day.date },
        tags: { region: day.city === 'Seattle' ? 'us-west' : 'us-east', traffic: atMs === undefined ? 'live' : 'backfill' },
        experiment: { name: EXPERIMENT, arm: user.arm },
      },
    }
    const primary = user.arm === 'control' ? this.models.control : this.models.treatment
    const main = this.predict(primary, features, this.log.start({ ...common, model: this.modelInfo(primary, 'primary') }))
    const shadow = this.predict(
      this.models.shadow,
      features,
      this.log.start({ ...common, model: this.modelInfo(this.models.shadow, 'shadow'), shadow_of: main.id }),
    )
    if (main.prediction)
      this.feedback.schedule(
        main.id,
        planFeedback(this.rng, { predicted: main.prediction.label, observed: day.weather, userId: user.id, speed: this.o.speed }),
        atMs,
      )
    this.count++
    return { id: main.id, shadowId: shadow.id, arm: user.arm, day, prediction: main.prediction }
  }

  private modelInfo(m: Classifier, stage: 'primary' | 'shadow') {
    return { name: MODEL_NAME, version: m.version, digest: m.digest, params: m.params, endpoint: '/predict', stage }
  }

  /** Runs one model under a span: `pre` checks and prepares the features, `inference` predicts, `post` explains. */
  private predict(m: Classifier, features: readonly (number | null)[], span: Span): { id: string; prediction: WeatherPrediction | null } {
    span.phase('pre')
    const missing = FEATURE_NAMES.filter((_, j) => features[j] === null)
    if (missing.length > 0) return { id: span.fail(new MissingFeatureError(`missing reading: ${missing.join(', ')}`)), prediction: null }
    const x = m.prepare(features as number[])
    span.phase('inference')
    const probs = m.probabilities(x)
    span.phase('post')
    const prediction = toPrediction(probs)
    const classIndex = probs.indexOf(Math.max(...probs))
    const attributions = occlusionAttributions(m, x, m.prepare(this.models.means), classIndex)
    const id = span.end({ output: prediction, internals: { attributions, ...m.explain?.(x) } })
    return { id, prediction }
  }
}
