import { type DatasetTrigger, DEFAULT_WEBHOOK_ATTEMPTS, DEFAULT_WEBHOOK_TIMEOUT_MS, parseDatasetId } from '@inferlog/datasets'
import { nextBackoffMs } from '@inferlog/schema'
import type { Logger } from '../logging/logger.js'
import type { DerivedStore } from '../store/store.js'
import type { DatasetBuilds } from './dataset-builds.js'
import { numeric, type RunRow, type TriggerRow } from './trigger-tables.js'
import { postWebhook } from './trigger-webhook.js'

/** What {@link deliverDue} needs. */
export interface DeliveryContext {
  derived: DerivedStore
  builds: DatasetBuilds
  /** First retry delay, ms; doubles per attempt, capped at 10 minutes. */
  retryBaseMs: number
  now: () => number
  fetch: typeof fetch
  logger: Logger | undefined
}

/**
 * Sends each due webhook delivery of built versions once (at most 50 per call): the body is the
 * version's manifest read back from the catalog, so a retry sends the same content. A 2xx is
 * `delivered`; a failure waits retryBaseMs·2^(attempts−1) (≤ 10 min) before the next try, until the
 * trigger's `max_attempts` (then `failed`). The version itself is never touched.
 */
export async function deliverDue(o: DeliveryContext): Promise<void> {
  const db = o.derived.db
  const due = (
    (await db
      .selectFrom('dataset_trigger_runs')
      .selectAll()
      .where('webhook_state', '=', 'pending')
      .where('next_attempt_ms', '<=', o.now())
      .orderBy('next_attempt_ms')
      .limit(50)
      .execute()) as Record<string, unknown>[]
  ).map((r) => numeric<RunRow>(r))
  for (const r of due) {
    const t = (await db
      .selectFrom('dataset_triggers')
      .select('config')
      .where('project', '=', r.project)
      .where('name', '=', r.name)
      .executeTakeFirst()) as Pick<TriggerRow, 'config'> | undefined
    const hook = t ? (JSON.parse(t.config) as DatasetTrigger).webhook : undefined
    const key = (q: any) => q.where('project', '=', r.project).where('name', '=', r.name).where('id', '=', r.id)
    if (!hook || !r.dataset_id) {
      await o.derived.write([key(db.updateTable('dataset_trigger_runs').set({ webhook_state: 'none' })).compile()])
      continue
    }
    let body: string
    try {
      const manifest = o.builds.catalog(r.project).get(r.dataset_id)
      const p = parseDatasetId(r.dataset_id)!
      body = JSON.stringify({
        type: 'dataset.version',
        project: r.project,
        trigger: { name: r.name, run: r.id, reason: r.reason, ...(r.alerts ? { alerts: JSON.parse(r.alerts) as unknown } : {}) },
        id: r.dataset_id,
        name: p.name,
        version: p.version,
        manifest,
      })
    } catch (e) {
      body = ''
      o.logger?.warn(`dataset trigger ${r.project}/${r.name}: cannot read ${r.dataset_id}: ${(e as Error).message}`)
    }
    const attempt = body
      ? await postWebhook({
          url: hook.url,
          body,
          delivery: `${r.project}/${r.name}/${r.id}`,
          ...(hook.secret ? { secret: hook.secret } : {}),
          timeoutMs: hook.timeout_ms ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
          now: o.now,
          fetch: o.fetch,
        })
      : { ok: false, error: `manifest of ${r.dataset_id} not found on this collector` }
    const attempts = r.attempts + 1
    const gaveUp = !attempt.ok && attempts >= (hook.max_attempts ?? DEFAULT_WEBHOOK_ATTEMPTS)
    const now = o.now()
    await o.derived.write([
      key(
        db.updateTable('dataset_trigger_runs').set({
          webhook_state: attempt.ok ? 'delivered' : gaveUp ? 'failed' : 'pending',
          attempts,
          last_status: attempt.status ?? null,
          last_error: attempt.ok ? null : (attempt.error ?? null),
          next_attempt_ms:
            attempt.ok || gaveUp ? null : now + nextBackoffMs(attempts - 1, { baseMs: o.retryBaseMs, maxMs: 600_000, random: () => 1 }),
          delivered_ms: attempt.ok ? now : null,
        }),
      ).compile(),
    ])
  }
}
