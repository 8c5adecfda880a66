import {
  type AlertObservation,
  type AlertRule,
  type AlertState,
  evaluateAlert,
  MonitoringError,
  metricObservation,
  parseAlertRules,
  windowMs,
} from '@inferlog/analysis'
import { nextBackoffMs } from '@inferlog/schema'
import { InferlogError } from '../errors.js'
import { type DerivedMigration, migrateDerived } from '../feed/derived-schema.js'
import type { Logger } from '../logging/logger.js'
import { parseFilterObject } from '../query/parse-filter.js'
import type { DerivedStore } from '../store/store.js'
import { bucketQueryOf, type Comparisons } from './comparisons.js'
import type { MetricsReader } from './metrics-query.js'
import type { DriftService } from './drift-service.js'
import type { ModelConfigs } from './model-config.js'

const SCHEMA: readonly DerivedMigration[] = [
  async (db) => {
    await db.schema
      .createTable('alert_rules')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('rule', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('since_ms', 'bigint', (c) => c.notNull())
      .addColumn('evaluated_ms', 'bigint')
      .addColumn('last', 'text')
      .addPrimaryKeyConstraint('alert_rules_pk', ['project', 'id'])
      .execute()
    await db.schema
      .createTable('alert_events')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('rule_id', 'text', (c) => c.notNull())
      .addColumn('at_ms', 'bigint', (c) => c.notNull())
      .addColumn('transition', 'text', (c) => c.notNull())
      .addColumn('evaluation', 'text', (c) => c.notNull())
      .addColumn('webhook', 'text')
      .addColumn('delivered', 'integer', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addPrimaryKeyConstraint('alert_events_pk', ['project', 'rule_id', 'at_ms'])
      .execute()
  },
]

/** Options of {@link Alerts}. */
export interface AlertsOptions {
  /** How often every rule is evaluated, ms. Default 30 000. */
  everyMs?: number
  /** Webhook deliveries tried per transition before giving up. Default 8. */
  maxAttempts?: number
  /** Time a webhook may take to answer, ms. Default 5 000. */
  webhookTimeoutMs?: number
  now?: () => number
  logger?: Logger
  /** Test seam: how webhooks are sent. Default global `fetch`. */
  fetch?: typeof fetch
  /** Evaluates `drift` conditions; without it they never fire. */
  drift?: DriftService
}

/** A rule as `GET /v1/alerts` shows it. */
export interface AlertView {
  rule: AlertRule
  state: AlertState
  since: string
  evaluated_at: string | null
  last: unknown
}

/**
 * Alert rules evaluated continuously from the buckets (metrics and A/B comparisons; drift
 * conditions once the drift analysis serves them). A transition (fired, resolved) is recorded
 * with a compare-and-set on the rule's state, so several collectors evaluating the same rules
 * record and announce it once; webhooks are delivered by a separate loop with retries and a
 * timeout, so a failing or hanging webhook never slows evaluation.
 */
export class Alerts {
  private ready: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private running = false
  private readonly o: Required<Omit<AlertsOptions, 'logger' | 'drift'>> & { logger: Logger | undefined; drift: DriftService | undefined }

  constructor(
    private readonly derived: DerivedStore,
    private readonly reader: MetricsReader,
    private readonly configs: ModelConfigs,
    private readonly comparisons: Comparisons,
    o: AlertsOptions = {},
  ) {
    this.o = {
      everyMs: o.everyMs ?? 30_000,
      maxAttempts: o.maxAttempts ?? 8,
      webhookTimeoutMs: o.webhookTimeoutMs ?? 5_000,
      now: o.now ?? Date.now,
      fetch: o.fetch ?? fetch,
      logger: o.logger,
      drift: o.drift,
    }
  }

  private ensure(): Promise<void> {
    this.ready ??= migrateDerived(this.derived, 'alerts', SCHEMA).catch((e) => {
      this.ready = undefined
      throw e
    })
    return this.ready
  }

  /** Replaces a project's rules (validated whole: every problem with its path). Kept rules keep their state. */
  async setRules(project: string, input: unknown): Promise<AlertRule[]> {
    let rules: AlertRule[]
    try {
      rules = parseAlertRules(input)
    } catch (e) {
      if (e instanceof MonitoringError) throw new InferlogError('validation_failed', e.message, { details: e.issues })
      throw e
    }
    const ids = rules.map((r) => r.id)
    const dup = ids.find((id, i) => ids.indexOf(id) !== i)
    if (dup)
      throw new InferlogError('validation_failed', `rule id ${JSON.stringify(dup)} appears twice`, {
        details: [{ path: `/${ids.lastIndexOf(dup)}/id`, message: 'duplicate id' }],
      })
    for (const [i, r] of rules.entries()) {
      for (const [k, f] of Object.entries(r.condition))
        if ((k === 'filter' || k === 'a' || k === 'b') && f !== undefined) {
          try {
            parseFilterObject(f, `${i}.condition.${k}`)
          } catch (e) {
            throw new InferlogError('validation_failed', (e as Error).message, {
              details: [{ path: `/${i}/condition/${k}`, message: (e as Error).message }],
            })
          }
        }
    }
    await this.ensure()
    const db = this.derived.db
    const now = this.o.now()
    await this.derived.write([
      ...(ids.length > 0
        ? [db.deleteFrom('alert_rules').where('project', '=', project).where('id', 'not in', ids).compile()]
        : [db.deleteFrom('alert_rules').where('project', '=', project).compile()]),
      ...rules.map((r) =>
        db
          .insertInto('alert_rules')
          .values({ project, id: r.id, rule: JSON.stringify(r), state: 'ok', since_ms: now, evaluated_ms: null, last: null })
          .onConflict((oc) => oc.columns(['project', 'id']).doUpdateSet({ rule: JSON.stringify(r) }))
          .compile(),
      ),
    ])
    return rules
  }

  /** Every rule of a project with its state, and the latest transitions. */
  async view(project: string, limit = 100): Promise<{ rules: AlertView[]; transitions: unknown[] }> {
    await this.ensure()
    const db = this.derived.db
    const rules = (await db.selectFrom('alert_rules').selectAll().where('project', '=', project).orderBy('id').execute()) as Record<
      string,
      unknown
    >[]
    const events = (await db
      .selectFrom('alert_events')
      .selectAll()
      .where('project', '=', project)
      .orderBy('at_ms', 'desc')
      .limit(limit)
      .execute()) as Record<string, unknown>[]
    return {
      rules: rules.map((r) => ({
        rule: JSON.parse(r.rule as string) as AlertRule,
        state: r.state as AlertState,
        since: new Date(Number(r.since_ms)).toISOString(),
        evaluated_at: r.evaluated_ms === null ? null : new Date(Number(r.evaluated_ms)).toISOString(),
        last: r.last ? JSON.parse(r.last as string) : null,
      })),
      transitions: events.map((e) => ({
        rule_id: e.rule_id,
        at: new Date(Number(e.at_ms)).toISOString(),
        transition: e.transition,
        ...(JSON.parse(e.evaluation as string) as object),
        webhook: e.webhook
          ? { delivered: Number(e.delivered) === 1, attempts: Number(e.attempts), last_error: e.last_error ?? null }
          : null,
      })),
    }
  }

  /** Starts evaluating every `everyMs` (and delivering webhooks). Idempotent. */
  start(): void {
    if (this.timer) return
    this.timer = setInterval(() => void this.tick(), this.o.everyMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  private async tick(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      await this.evaluateAll()
      await this.deliver()
    } catch (e) {
      this.o.logger?.warn(`alerts: evaluation failed: ${(e as Error).message}`)
    } finally {
      this.running = false
    }
  }

  /** Evaluates every rule of every project once; returns the transitions recorded. */
  async evaluateAll(): Promise<{ project: string; id: string; transition: string }[]> {
    await this.ensure()
    const db = this.derived.db
    const rows = (await db.selectFrom('alert_rules').selectAll().execute()) as Record<string, unknown>[]
    const recorded: { project: string; id: string; transition: string }[] = []
    for (const r of rows) {
      const project = r.project as string
      const rule = JSON.parse(r.rule as string) as AlertRule
      const previous = r.state as AlertState
      let obs: AlertObservation | undefined
      try {
        obs = await this.observe(project, rule)
      } catch (e) {
        obs = undefined
        this.o.logger?.warn(`alerts: rule ${project}/${rule.id}: ${(e as Error).message}`)
      }
      const ev = evaluateAlert(rule, previous, obs ?? { value: null, n: 0 })
      const now = this.o.now()
      const writes = [
        db
          .updateTable('alert_rules')
          .set({ state: ev.state, evaluated_ms: now, last: JSON.stringify(ev), ...(ev.transition ? { since_ms: now } : {}) })
          .where('project', '=', project)
          .where('id', '=', rule.id)
          .where('state', '=', previous)
          .compile(),
      ]
      if (ev.transition) {
        writes.push(
          db
            .insertInto('alert_events')
            .values({
              project,
              rule_id: rule.id,
              at_ms: now,
              transition: ev.transition,
              evaluation: JSON.stringify({ value: ev.value, n: ev.n, threshold: ev.threshold, reason: ev.reason }),
              webhook: rule.webhook ?? null,
              delivered: 0,
              attempts: 0,
              last_error: null,
            })
            .onConflict((oc) => oc.doNothing())
            .compile(),
        )
        recorded.push({ project, id: rule.id, transition: ev.transition })
      }
      await this.derived.write(writes)
    }
    return recorded
  }

  /** The figure a rule's condition looks at, over its window ending now. */
  private async observe(project: string, rule: AlertRule): Promise<AlertObservation | undefined> {
    const span = windowMs(rule.window) ?? 3_600_000
    const now = this.o.now()
    const c = rule.condition
    if (c.type === 'metric') {
      const f = parseFilterObject({ ...c.filter, from: now - span, to: now }, 'filter')
      const q = bucketQueryOf(f, 'filter', now)
      const config = q.model === undefined ? undefined : await this.configs.get(project, q.model)
      const reply = await this.reader.query(project, { ...q, bucket: 'all' }, config)
      const point = reply.series[0]?.points[0]
      return point ? metricObservation(point, c.metric) : { value: null, n: 0 }
    }
    if (c.type === 'comparison') {
      const window = { from: now - span, to: now }
      const ab = await this.comparisons.ab(
        project,
        parseFilterObject({ ...c.a, ...window }, 'a'),
        parseFilterObject({ ...c.b, ...window }, 'b'),
        0.5,
      )
      const m = ab.metrics[c.metric]
      if (!m) return { value: null, n: Math.min(ab.a.n, ab.b.n) }
      return { value: c.statistic === 'p_value' ? m.p_value : m.diff, n: Math.min(ab.a.n, ab.b.n) }
    }
    if (c.type === 'drift') {
      if (!this.o.drift) return undefined
      const current = parseFilterObject({ ...c.filter, from: now - span, to: now }, 'filter')
      const ref = c.reference as Record<string, unknown> | undefined
      const reference =
        ref && typeof ref.profile === 'string' ? { profile: ref.profile } : { filter: parseFilterObject(ref ?? {}, 'reference') }
      const report = await this.o.drift.drift(project, {
        reference,
        current: { filter: current },
        fields: c.fields,
        mode: 'exact',
        ...(c.method ? { methods: Object.fromEntries(c.fields.map((f) => [f, c.method!])) } : {}),
        sample: 20_000,
      })
      const first = report.fields.find((f) => !('error' in f)) as { statistic: number | null; p_value?: number } | undefined
      const value =
        c.statistic === 'statistic' ? (first?.statistic ?? null) : c.statistic === 'p_value' ? (first?.p_value ?? null) : report.drift_share
      return { value, n: report.current_rows }
    }
    // Concept drift: how far the label's accuracy fell from the reference window to this one.
    const window = { from: now - span, to: now }
    const ab = await this.comparisons.ab(
      project,
      parseFilterObject(c.reference ?? { ...c.filter, from: now - 8 * span, to: now - span }, 'reference'),
      parseFilterObject({ ...c.filter, ...window }, 'filter'),
      0.5,
    )
    const m = ab.metrics[`quality.${c.label}.accuracy`]
    return { value: m ? m.a - m.b : null, n: Math.min(ab.a.n, ab.b.n) }
  }

  /** Delivers recorded transitions to their webhooks: one try each per call, backing off between calls. */
  async deliver(): Promise<void> {
    await this.ensure()
    const db = this.derived.db
    const due = (await db
      .selectFrom('alert_events')
      .selectAll()
      .where('delivered', '=', 0)
      .where('webhook', 'is not', null)
      .where('attempts', '<', this.o.maxAttempts)
      .orderBy('at_ms')
      .limit(50)
      .execute()) as Record<string, unknown>[]
    const now = this.o.now()
    for (const e of due) {
      const attempts = Number(e.attempts)
      // Backing off: the n-th retry waits about baseMs·2^n after the transition.
      if (attempts > 0 && now - Number(e.at_ms) < nextBackoffMs(attempts, { baseMs: 1_000, maxMs: 600_000, random: () => 1 })) continue
      const body = JSON.stringify({
        project: e.project,
        rule_id: e.rule_id,
        at: new Date(Number(e.at_ms)).toISOString(),
        transition: e.transition,
        ...JSON.parse(e.evaluation as string),
      })
      let error: string | null = null
      try {
        const res = await this.o.fetch(e.webhook as string, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.o.webhookTimeoutMs),
        })
        await res.arrayBuffer().catch(() => undefined)
        if (res.status >= 300) error = `HTTP ${res.status}`
      } catch (err) {
        error = (err as Error).message
      }
      await this.derived.write([
        db
          .updateTable('alert_events')
          .set({ delivered: error === null ? 1 : 0, attempts: attempts + 1, last_error: error })
          .where('project', '=', e.project as string)
          .where('rule_id', '=', e.rule_id as string)
          .where('at_ms', '=', Number(e.at_ms))
          .compile(),
      ])
    }
  }
}
