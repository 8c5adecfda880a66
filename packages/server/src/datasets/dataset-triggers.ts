import { randomBytes } from 'node:crypto'
import os from 'node:os'
import {
  createTriggerValidator,
  type DatasetTrigger,
  isDatasetError,
  nextScheduledMs,
  parseDatasetId,
  parseDatasetTrigger,
} from '@inferlog/datasets'
import { InferlogError } from '../errors.js'
import { migrateDerived } from '../feed/derived-schema.js'
import type { Logger } from '../logging/logger.js'
import type { CompiledWrite, DerivedStore } from '../store/store.js'
import { type DatasetBuilds, isNothingNew, toInferlogError } from './dataset-builds.js'
import { numeric, type RunReason, type RunRow, runView, TRIGGER_SCHEMA, type TriggerRow, triggerView } from './trigger-tables.js'
import { deliverDue } from './trigger-deliveries.js'

/** Lease name of the trigger runner in `feed_consumers` (one process runs triggers at a time). */
export const TRIGGER_LEASE = 'dataset-triggers'

/** Options of {@link DatasetTriggers}. */
export interface DatasetTriggersOptions {
  /** How often the lease holder looks for due triggers and due deliveries, ms. Default 10 000. */
  tickMs?: number
  /** Lease on running triggers, ms; renewed at a third of it, also while a build runs. Default 30 000. */
  leaseMs?: number
  /** First retry delay of a webhook, ms; doubles per attempt (capped at 10 min). Default 2 000. */
  retryBaseMs?: number
  /** Runs kept per trigger (older ones are pruned, never those with a pending delivery). Default 200. */
  keepRuns?: number
  now?: () => number
  logger?: Logger
  /** Test seam: how webhooks are sent. Default global `fetch`. */
  fetch?: typeof fetch
  /** This runner's identity in the lease. Default host, pid and a random suffix. */
  holder?: string
}

/**
 * Retraining triggers: builds the next version of a dataset on a schedule or when an alert rule
 * fires, with `since_last` semantics, and POSTs the manifest to a webhook. One process at a time
 * runs them (the lease {@link TRIGGER_LEASE}, as feed consumers have), whichever collectors are up.
 *
 * Order of a run, so that nothing built is lost: the due work is claimed on the trigger row (next
 * time, alert cursor) and a `running` run recorded; the version is built and published; the run
 * becomes `built` with the delivery `pending`; deliveries are retried with back-off apart from
 * builds. A build with nothing new publishes no version (`skipped`). A run whose process died
 * is reconciled by the next holder: attached to the version it published, or retried.
 */
export class DatasetTriggers {
  private ready: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private again = false
  /** This process claimed the triggers' lease (to give it up at stop). */
  private leased = false
  private readonly validator = createTriggerValidator()
  private readonly o: Required<Omit<DatasetTriggersOptions, 'logger'>> & { logger: Logger | undefined }

  constructor(
    private readonly derived: DerivedStore,
    private readonly builds: DatasetBuilds,
    o: DatasetTriggersOptions = {},
  ) {
    this.o = {
      tickMs: o.tickMs ?? 10_000,
      leaseMs: o.leaseMs ?? 30_000,
      retryBaseMs: o.retryBaseMs ?? 2_000,
      keepRuns: o.keepRuns ?? 200,
      now: o.now ?? Date.now,
      fetch: o.fetch ?? fetch,
      holder: o.holder ?? `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
      logger: o.logger,
    }
  }

  private ensure(): Promise<void> {
    this.ready ??= migrateDerived(this.derived, 'dataset-triggers', TRIGGER_SCHEMA).catch((e) => {
      this.ready = undefined
      throw e
    })
    return this.ready
  }

  private async row(project: string, name: string): Promise<TriggerRow | undefined> {
    const r = await this.derived.db
      .selectFrom('dataset_triggers')
      .selectAll()
      .where('project', '=', project)
      .where('name', '=', name)
      .executeTakeFirst()
    return r ? numeric<TriggerRow>(r as Record<string, unknown>) : undefined
  }

  /** Creates or replaces a dataset's trigger (validated whole, spec included); alerts count from now on. */
  async set(project: string, name: string, input: unknown): Promise<Record<string, unknown>> {
    if (!parseDatasetId(`${name}@1`)) throw new InferlogError('invalid_parameter', `${JSON.stringify(name)} is not a dataset name`)
    let trigger: DatasetTrigger
    try {
      trigger = parseDatasetTrigger(input, { validator: this.validator })
    } catch (e) {
      throw isDatasetError(e) ? new InferlogError('validation_failed', e.message, { details: e.issues }) : e
    }
    await this.ensure()
    const now = this.o.now()
    const next = nextScheduledMs(trigger.schedule, now) ?? null
    const db = this.derived.db
    await this.derived.write([
      db
        .insertInto('dataset_triggers')
        .values({
          project,
          name,
          config: JSON.stringify(trigger),
          next_due_ms: next,
          alert_cursor_ms: now,
          requested_ms: null,
          claimed_run: null,
          created_ms: now,
          updated_ms: now,
        })
        .onConflict((oc) =>
          oc.columns(['project', 'name']).doUpdateSet({ config: JSON.stringify(trigger), next_due_ms: next, updated_ms: now }),
        )
        .compile(),
    ])
    this.poke()
    return this.show(project, name)
  }

  /** The trigger with its next scheduled time and latest runs; `not_found` when there is none. */
  async show(project: string, name: string, runs = 20): Promise<Record<string, unknown>> {
    await this.ensure()
    const t = await this.row(project, name)
    if (!t) throw new InferlogError('not_found', `dataset ${name} has no trigger`)
    const rows = (await this.derived.db
      .selectFrom('dataset_trigger_runs')
      .selectAll()
      .where('project', '=', project)
      .where('name', '=', name)
      .orderBy('at_ms', 'desc')
      .orderBy('id', 'desc')
      .limit(runs)
      .execute()) as Record<string, unknown>[]
    return {
      name,
      trigger: triggerView(JSON.parse(t.config) as DatasetTrigger),
      next_run_at: t.next_due_ms === null ? null : new Date(t.next_due_ms).toISOString(),
      run_requested: t.requested_ms !== null,
      created_at: new Date(t.created_ms).toISOString(),
      updated_at: new Date(t.updated_ms).toISOString(),
      runs: rows.map((r) => runView(numeric<RunRow>(r))),
    }
  }

  /** Removes a trigger and its run history (built versions stay); `not_found` when there is none. */
  async remove(project: string, name: string): Promise<void> {
    await this.ensure()
    if (!(await this.row(project, name))) throw new InferlogError('not_found', `dataset ${name} has no trigger`)
    const db = this.derived.db
    await this.derived.write([
      db.deleteFrom('dataset_trigger_runs').where('project', '=', project).where('name', '=', name).compile(),
      db.deleteFrom('dataset_triggers').where('project', '=', project).where('name', '=', name).compile(),
    ])
  }

  /** Asks for a build now (the lease holder runs it at its next look, at once when that is this process). */
  async requestRun(project: string, name: string): Promise<void> {
    await this.ensure()
    if (!(await this.row(project, name))) throw new InferlogError('not_found', `dataset ${name} has no trigger`)
    const db = this.derived.db
    await this.derived.write([
      db
        .updateTable('dataset_triggers')
        .set({ requested_ms: this.o.now() })
        .where('project', '=', project)
        .where('name', '=', name)
        .compile(),
    ])
    this.poke()
  }

  /** Starts looking every `tickMs`. Idempotent. */
  start(): void {
    if (this.timer) return
    this.timer = setInterval(() => this.poke(), this.o.tickMs)
    this.timer.unref()
    this.poke()
  }

  /** Stops the loop and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.running
    // Give the lease up: the next process (this one restarted) looks at once, not after leaseMs.
    if (this.leased) await this.derived.claim(TRIGGER_LEASE, this.o.holder, -1).catch(() => undefined)
    this.leased = false
  }

  /** Looks now (after the current look, if one runs), when started. */
  poke(): void {
    if (!this.timer) return
    if (this.running !== undefined) {
      this.again = true
      return
    }
    this.running = this.tick()
      .then(() => undefined)
      .catch((e: unknown) => this.o.logger?.warn(`dataset triggers: ${(e as Error).message}`))
      .finally(() => {
        this.running = undefined
        if (this.again && this.timer) {
          this.again = false
          this.poke()
        }
      })
  }

  /**
   * One look, when this process holds the lease: reconciles runs of a dead holder, runs every due
   * trigger (schedule, fired alerts, requests) one after another, then sends due deliveries.
   * Returns false when another process holds the lease.
   */
  async tick(): Promise<boolean> {
    await this.ensure()
    if (!(await this.derived.claim(TRIGGER_LEASE, this.o.holder, this.o.leaseMs))) return false
    this.leased = true
    await this.reconcile()
    const triggers = (
      (await this.derived.db.selectFrom('dataset_triggers').selectAll().orderBy('project').orderBy('name').execute()) as Record<
        string,
        unknown
      >[]
    ).map((r) => numeric<TriggerRow>(r))
    for (const t of triggers) await this.runIfDue(t)
    await this.deliver()
    return true
  }

  private async runIfDue(t: TriggerRow): Promise<void> {
    const now = this.o.now()
    const trigger = JSON.parse(t.config) as DatasetTrigger
    const db = this.derived.db
    let fired: { rule_id: string; at_ms: number }[] = []
    if (trigger.on_alert?.length) {
      fired = (
        (await db
          .selectFrom('alert_events')
          .select(['rule_id', 'at_ms'])
          .where('project', '=', t.project)
          .where('rule_id', 'in', trigger.on_alert)
          .where('transition', '=', 'fired')
          .where('at_ms', '>', t.alert_cursor_ms)
          .orderBy('at_ms')
          .limit(1000)
          .execute()
          .catch(() => [])) as { rule_id: string; at_ms: unknown }[]
      ).map((a) => ({ rule_id: a.rule_id, at_ms: Number(a.at_ms) }))
    }
    const scheduled = t.next_due_ms !== null && now >= t.next_due_ms
    if (!scheduled && fired.length === 0 && t.requested_ms === null) return
    const reason: RunReason = t.requested_ms !== null ? 'manual' : fired.length > 0 ? 'alert' : 'schedule'
    const runId = `${now.toString(36)}-${randomBytes(4).toString('hex')}`
    const cursor = fired.reduce((m, a) => Math.max(m, a.at_ms), t.alert_cursor_ms)
    // Claim the due work on the trigger row before building: a second runner (a lease lost
    // mid-build) finds it already claimed and does nothing.
    await this.derived.write([
      db
        .updateTable('dataset_triggers')
        .set({
          next_due_ms: scheduled ? (nextScheduledMs(trigger.schedule, now) ?? null) : t.next_due_ms,
          alert_cursor_ms: cursor,
          requested_ms: null,
          claimed_run: runId,
        })
        .where('project', '=', t.project)
        .where('name', '=', t.name)
        .where('updated_ms', '=', t.updated_ms)
        .where('alert_cursor_ms', '=', t.alert_cursor_ms)
        .where((eb) => (t.claimed_run === null ? eb('claimed_run', 'is', null) : eb('claimed_run', '=', t.claimed_run)))
        .compile(),
      db
        .insertInto('dataset_trigger_runs')
        .values({
          project: t.project,
          name: t.name,
          id: runId,
          at_ms: now,
          reason,
          alerts: fired.length > 0 ? JSON.stringify([...new Set(fired.map((a) => a.rule_id))]) : null,
          state: 'running',
          heartbeat_ms: now,
          dataset_id: null,
          result: null,
          webhook_state: 'none',
          attempts: 0,
          next_attempt_ms: null,
          last_status: null,
          last_error: null,
          delivered_ms: null,
        })
        .compile(),
    ])
    if ((await this.row(t.project, t.name))?.claimed_run !== runId) {
      await this.derived.write([db.deleteFrom('dataset_trigger_runs').where('project', '=', t.project).where('id', '=', runId).compile()])
      return
    }
    await this.build(t, trigger, runId)
  }

  /** Builds one run's version, renewing the lease and the run's heartbeat while it takes. */
  private async build(t: TriggerRow, trigger: DatasetTrigger, runId: string): Promise<void> {
    const db = this.derived.db
    const where = (q: any) => q.where('project', '=', t.project).where('name', '=', t.name).where('id', '=', runId)
    const beat = setInterval(() => {
      void this.derived.claim(TRIGGER_LEASE, this.o.holder, this.o.leaseMs).catch(() => undefined)
      void this.derived
        .write([where(db.updateTable('dataset_trigger_runs').set({ heartbeat_ms: this.o.now() })).compile()])
        .catch(() => undefined)
    }, this.o.leaseMs / 3)
    beat.unref()
    let writes: CompiledWrite[]
    try {
      const hasVersion = this.builds
        .catalog(t.project)
        .list()
        .some((d) => d.name === t.name)
      const built = await this.builds.build(t.project, t.name, trigger.spec, (trigger.since_last ?? true) && hasVersion, true)
      const m = built.manifest
      writes = [
        where(
          db.updateTable('dataset_trigger_runs').set({
            state: 'built',
            dataset_id: built.id,
            result: JSON.stringify({ version: built.version, rows: m.counts.written, watermark: m.watermark, after_batch: m.after_batch }),
            webhook_state: trigger.webhook ? 'pending' : 'none',
            next_attempt_ms: this.o.now(),
          }),
        ).compile(),
      ]
      this.o.logger?.info(`dataset trigger ${t.project}/${t.name}: built ${built.id} (${m.counts.written} rows)`)
    } catch (e) {
      const err = toInferlogError(e) as Error
      const skipped = isNothingNew(err)
      writes = [
        where(
          db
            .updateTable('dataset_trigger_runs')
            .set({ state: skipped ? 'skipped' : 'failed', result: JSON.stringify({ message: err.message }) }),
        ).compile(),
      ]
      if (!skipped) this.o.logger?.warn(`dataset trigger ${t.project}/${t.name}: build failed: ${err.message}`)
    } finally {
      clearInterval(beat)
    }
    await this.derived.write([...writes, ...this.pruneRuns(t)])
  }

  private pruneRuns(t: TriggerRow): CompiledWrite[] {
    const db = this.derived.db
    const keep = db
      .selectFrom('dataset_trigger_runs')
      .select('id')
      .where('project', '=', t.project)
      .where('name', '=', t.name)
      .orderBy('at_ms', 'desc')
      .orderBy('id', 'desc')
      .limit(this.o.keepRuns)
    return [
      db
        .deleteFrom('dataset_trigger_runs')
        .where('project', '=', t.project)
        .where('name', '=', t.name)
        .where('webhook_state', '!=', 'pending')
        .where('state', '!=', 'running')
        .where('id', 'not in', keep)
        .compile(),
    ]
  }

  /**
   * Runs left `running` by a process that died (no heartbeat for a lease): if the version they
   * built is in the catalog (published, not yet recorded), attach it and announce it; otherwise
   * mark them failed and ask for a new run.
   */
  private async reconcile(): Promise<void> {
    const db = this.derived.db
    const stale = (
      (await db
        .selectFrom('dataset_trigger_runs')
        .selectAll()
        .where('state', '=', 'running')
        .where('heartbeat_ms', '<', this.o.now() - this.o.leaseMs)
        .execute()) as Record<string, unknown>[]
    ).map((r) => numeric<RunRow>(r))
    for (const r of stale) {
      const known = new Set(
        (
          (await db
            .selectFrom('dataset_trigger_runs')
            .select('dataset_id')
            .where('project', '=', r.project)
            .where('name', '=', r.name)
            .where('dataset_id', 'is not', null)
            .execute()) as { dataset_id: string }[]
        ).map((x) => x.dataset_id),
      )
      const versions =
        this.builds
          .catalog(r.project)
          .list()
          .find((d) => d.name === r.name)?.versions ?? []
      const orphan = versions.find((v) => !known.has(v.id) && Date.parse(v.built_at) >= r.at_ms)
      const t = await this.row(r.project, r.name)
      const hook = t ? (JSON.parse(t.config) as DatasetTrigger).webhook : undefined
      const key = (q: any) => q.where('project', '=', r.project).where('name', '=', r.name).where('id', '=', r.id)
      await this.derived.write(
        orphan
          ? [
              key(
                db.updateTable('dataset_trigger_runs').set({
                  state: 'built',
                  dataset_id: orphan.id,
                  result: JSON.stringify({ version: orphan.version, rows: orphan.rows, watermark: orphan.watermark, recovered: true }),
                  webhook_state: hook ? 'pending' : 'none',
                  next_attempt_ms: this.o.now(),
                }),
              ).compile(),
            ]
          : [
              key(
                db
                  .updateTable('dataset_trigger_runs')
                  .set({ state: 'failed', result: JSON.stringify({ message: 'interrupted: its process stopped' }) }),
              ).compile(),
              ...(t
                ? [
                    db
                      .updateTable('dataset_triggers')
                      .set({ requested_ms: this.o.now() })
                      .where('project', '=', r.project)
                      .where('name', '=', r.name)
                      .compile(),
                  ]
                : []),
            ],
      )
    }
  }

  /** Sends each due delivery once; failures wait retryBaseMs·2^attempts (≤ 10 min) until max_attempts. */
  async deliver(): Promise<void> {
    await this.ensure()
    await deliverDue({ derived: this.derived, builds: this.builds, ...this.o })
  }
}
