import { parseConsumerSelection, startWorker, stderrLogger } from '@inferlog/server'
import type { Io } from '../common.js'
import { redactUrl } from './serve.js'

/** Flags of `inferlog worker`. */
export interface WorkerFlags {
  store?: string
  queue?: string
  port?: string
  host?: string
  maxGroups?: string
  concurrency?: string
  consumers?: string
  auditKey?: string
  checkpointIntervalMs?: string
  json?: boolean
}

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`)
  return n
}

/**
 * Runs a scale-out worker until SIGINT/SIGTERM: consumes the queue and writes the store. The first
 * line on stdout says it is consuming (with `--json`: `{"worker":"ready","store","queue","metrics"}`).
 */
export async function workerCommand(f: WorkerFlags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const storeUrl = f.store ?? env.INFERLOG_STORE
  const queueUrl = f.queue ?? env.INFERLOG_QUEUE
  if (!storeUrl || !queueUrl) {
    io.err('inferlog: worker needs --store postgres://… and --queue nats://… (or INFERLOG_STORE / INFERLOG_QUEUE)')
    return 2
  }
  const port = int('--port', f.port, 0)
  const maxGroups = int('--max-groups', f.maxGroups, 1)
  const concurrency = int('--concurrency', f.concurrency, 1)
  const consumers = parseConsumerSelection(f.consumers ?? env.INFERLOG_CONSUMERS ?? 'all')
  const keyFile = f.auditKey ?? (env.INFERLOG_AUDIT_KEY || undefined)
  const every = int('--checkpoint-interval-ms', f.checkpointIntervalMs ?? (env.INFERLOG_CHECKPOINT_INTERVAL_MS || undefined), 1)
  const running = await startWorker(
    {
      storeUrl,
      queueUrl,
      ...(port !== undefined ? { port } : {}),
      ...(f.host !== undefined ? { host: f.host } : {}),
      consumers,
      audit: { ...(keyFile ? { keyFile } : {}), ...(every !== undefined ? { checkpointIntervalMs: every } : {}) },
      tuning: { ...(maxGroups !== undefined ? { maxGroups } : {}), ...(concurrency !== undefined ? { concurrency } : {}) },
    },
    stderrLogger(),
  )
  const store = redactUrl(storeUrl)
  io.out(
    f.json
      ? JSON.stringify({ worker: 'ready', store, queue: queueUrl, metrics: running.metricsUrl ?? null })
      : `worker consuming ${queueUrl} into ${store}${running.metricsUrl ? `; metrics at ${running.metricsUrl}/metrics` : ''}`,
  )
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      io.err(`inferlog: ${sig}: finishing the current write and closing`)
      resolve()
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
  })
  await running.close()
  const s = running.worker.stats
  io.err(
    `inferlog: worker wrote ${s.groups} groups: ${s.inserted} inserted, ${s.duplicates} duplicates, ${s.conflicts} conflicts, ${s.redeliveries} redeliveries`,
  )
  return 0
}
