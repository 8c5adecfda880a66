import type { Logger, Span } from '@inferlog/sdk'
import type { DelayedFeedback } from './delayed-feedback.js'
import { planFeedback } from './feedback-plan.js'
import { type Classifier, occlusionAttributions, toPrediction, type WeatherPrediction } from './models/classifier.js'
import { type DemoModels, MODEL_NAME } from './models/train-models.js'
import type { SeededRandom } from './seeded-random.js'
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
  /** Users in the pool, split into the arms at random. Default 400. */
  users?: number
  /** Time compression of feedback delays. */
  speed: number
}

/** What one request did. */
export interface ServedRequest {
  id: string
  shadowId: string
  arm: Arm
  day: WeatherDay
  prediction: WeatherPrediction
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
    private readonly rng: SeededRandom,
    private readonly o: TrafficOptions,
  ) {
    this.users = Array.from({ length: o.users ?? 400 }, (_, i) => ({
      id: `user-${String(i + 1).padStart(4, '0')}`,
      arm: rng.chance(0.5) ? 'control' : 'treatment',
      session: '',
      sessionsSoFar: 0,
      requestsLeft: 0,
    }))
  }

  /** Requests served so far. */
  get served(): number {
    return this.count
  }

  /** Serves one request from the traffic of the given phase. */
  serve(shifted: boolean): ServedRequest {
    const day = this.rng.pick(shifted ? this.splits.after : this.splits.before)
    const user = this.rng.pick(this.users)
    if (user.requestsLeft <= 0) {
      user.sessionsSoFar++
      user.session = `${user.id}-s${user.sessionsSoFar}`
      user.requestsLeft = 1 + Math.floor(this.rng.exponential(3))
    }
    user.requestsLeft--
    const common = {
      input: Object.fromEntries(FEATURE_NAMES.map((f) => [f, day[f]])),
      trace: { session_id: user.session, user_id: user.id },
      context: {
        entities: { city: day.city, date: day.date },
        tags: { region: day.city === 'Seattle' ? 'us-west' : 'us-east' },
        experiment: { name: EXPERIMENT, arm: user.arm },
      },
    }
    const primary = user.arm === 'control' ? this.models.control : this.models.treatment
    const main = this.predict(primary, day, this.log.start({ ...common, model: this.modelInfo(primary, 'primary') }))
    const shadow = this.predict(
      this.models.shadow,
      day,
      this.log.start({ ...common, model: this.modelInfo(this.models.shadow, 'shadow'), shadow_of: main.id }),
    )
    this.feedback.schedule(
      main.id,
      planFeedback(this.rng, { predicted: main.prediction.label, observed: day.weather, userId: user.id, speed: this.o.speed }),
    )
    this.count++
    return { id: main.id, shadowId: shadow.id, arm: user.arm, day, prediction: main.prediction }
  }

  private modelInfo(m: Classifier, stage: 'primary' | 'shadow') {
    return { name: MODEL_NAME, version: m.version, digest: m.digest, params: m.params, endpoint: '/predict', stage }
  }

  /** Runs one model under a span: `pre` prepares the features, `inference` predicts, `post` explains. */
  private predict(m: Classifier, day: WeatherDay, span: Span): { id: string; prediction: WeatherPrediction } {
    span.phase('pre')
    const x = m.prepare(featuresOf(day))
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
