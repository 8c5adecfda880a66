import type { DatasetTrigger } from '@inferlog/datasets'
import type { DerivedMigration } from '../feed/derived-schema.js'

/** Tables of dataset triggers and their runs, beside derived data (`migrateDerived` owner `dataset-triggers`). */
export const TRIGGER_SCHEMA: readonly DerivedMigration[] = [
  async (db) => {
    await db.schema
      .createTable('dataset_triggers')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('next_due_ms', 'bigint')
      .addColumn('alert_cursor_ms', 'bigint', (c) => c.notNull())
      .addColumn('requested_ms', 'bigint')
      .addColumn('claimed_run', 'text')
      .addColumn('created_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('dataset_triggers_pk', ['project', 'name'])
      .execute()
    await db.schema
      .createTable('dataset_trigger_runs')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('at_ms', 'bigint', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('alerts', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('heartbeat_ms', 'bigint', (c) => c.notNull())
      .addColumn('dataset_id', 'text')
      .addColumn('result', 'text')
      .addColumn('webhook_state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_ms', 'bigint')
      .addColumn('last_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('delivered_ms', 'bigint')
      .addPrimaryKeyConstraint('dataset_trigger_runs_pk', ['project', 'name', 'id'])
      .execute()
    await db.schema
      .createIndex('dataset_trigger_runs_due')
      .on('dataset_trigger_runs')
      .columns(['webhook_state', 'next_attempt_ms'])
      .execute()
  },
]

/** A trigger row as stored. */
export interface TriggerRow {
  project: string
  name: string
  config: string
  next_due_ms: number | null
  alert_cursor_ms: number
  requested_ms: number | null
  claimed_run: string | null
  created_ms: number
  updated_ms: number
}

/** A run row as stored. */
export interface RunRow {
  project: string
  name: string
  id: string
  at_ms: number
  reason: RunReason
  alerts: string | null
  state: RunState
  heartbeat_ms: number
  dataset_id: string | null
  result: string | null
  webhook_state: WebhookState
  attempts: number
  next_attempt_ms: number | null
  last_status: number | null
  last_error: string | null
  delivered_ms: number | null
}

/** Why a run started. */
export type RunReason = 'schedule' | 'alert' | 'manual'
/** Where a run is: building, a version made, nothing new (no version), or the build failed. */
export type RunState = 'running' | 'built' | 'skipped' | 'failed'
/** Where its webhook delivery is. `none`: no webhook, or no version to announce. */
export type WebhookState = 'none' | 'pending' | 'delivered' | 'failed'

const NUMERIC = ['next_due_ms', 'alert_cursor_ms', 'requested_ms', 'created_ms', 'updated_ms', 'at_ms', 'heartbeat_ms', 'attempts']
const NULLABLE = ['next_attempt_ms', 'last_status', 'delivered_ms', 'next_due_ms', 'requested_ms']

/** PostgreSQL returns bigint as text: numbers back. */
export function numeric<T>(row: Record<string, unknown>): T {
  for (const k of NUMERIC) if (k in row && row[k] !== null) row[k] = Number(row[k])
  for (const k of NULLABLE) if (k in row && row[k] !== null) row[k] = Number(row[k])
  return row as T
}

/** A trigger as `GET /v1/datasets/{name}/trigger` shows it: the secret never leaves. */
export function triggerView(t: DatasetTrigger): Record<string, unknown> {
  const { webhook, ...rest } = t
  if (!webhook) return { ...rest }
  const { secret, ...hook } = webhook
  return { ...rest, webhook: { ...hook, has_secret: secret !== undefined } }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** A run as the API shows it. */
export function runView(r: RunRow): Record<string, unknown> {
  const result = r.result ? (JSON.parse(r.result) as Record<string, unknown>) : {}
  return {
    id: r.id,
    at: iso(r.at_ms),
    reason: r.reason,
    ...(r.alerts ? { alerts: JSON.parse(r.alerts) as unknown } : {}),
    state: r.state,
    dataset_id: r.dataset_id,
    ...result,
    webhook: {
      state: r.webhook_state,
      attempts: r.attempts,
      last_status: r.last_status,
      last_error: r.last_error,
      next_attempt_at: r.webhook_state === 'pending' ? iso(r.next_attempt_ms) : null,
      delivered_at: iso(r.delivered_ms),
    },
  }
}
