import { createLogger, resolveServerConfig, type ServerConfigInput, startServer } from '@inferlog/server'
import type { Io } from '../common.js'

/** Flags of `inferlog serve`. */
export interface ServeFlags {
  port?: string
  host?: string
  data?: string
  store?: string
  queue?: string
  requireKeys?: boolean
  maxBodyBytes?: string
  maxEventBytes?: string
  maxFutureSkewMs?: string
  headersTimeoutMs?: string
  bodyTimeoutMs?: string
  idleTimeoutMs?: string
  maxConnections?: string
  memoryBudgetBytes?: string
  consumers?: string
  /** `false` with `--no-feed-thread` (commander sets `true` otherwise). */
  feedThread?: boolean
  feedNice?: string
  /** `--feed-process`. */
  feedProcess?: boolean
  /** `false` with `--no-feed-idle` (commander sets `true` otherwise). */
  feedIdle?: boolean
  feedYield?: string
  auditKey?: string
  checkpointIntervalMs?: string
  json?: boolean
}

/** A URL as it may be printed: any password replaced by `***`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*:)[^@/?#]*@/i, '$1***@')
}

/** Keeps only the flags that were given (config validates each). */
function given<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

/**
 * Runs the collector until SIGINT/SIGTERM. The first line on stdout is the URL it listens on
 * (with `--json`: `{"url", "open", "store", "queue"}`). With `--queue nats://…` it is a stateless
 * scale-out collector: accepted items go to JetStream, `inferlog worker` writes them to the store.
 */
export async function serveCommand(f: ServeFlags, io: Io): Promise<number> {
  const input: ServerConfigInput = {
    ...given({
      host: f.host,
      port: f.port,
      data: f.data,
      store: f.store,
      queue: f.queue,
      consumers: f.consumers,
      feedNice: f.feedNice,
      feedYield: f.feedYield,
      auditKey: f.auditKey,
      checkpointIntervalMs: f.checkpointIntervalMs,
    }),
    ...(f.requireKeys ? { requireKeys: true } : {}),
    // Only the flag's "off" overrides $INFERLOG_FEED_THREAD (its default is commander's).
    ...(f.feedThread === false ? { feedThread: false } : {}),
    ...(f.feedProcess ? { feedProcess: true } : {}),
    ...(f.feedIdle === false ? { feedIdle: false } : {}),
    limits: given({ maxBodyBytes: f.maxBodyBytes, maxEventBytes: f.maxEventBytes, maxFutureSkewMs: f.maxFutureSkewMs }) as never,
    http: given({
      headersTimeoutMs: f.headersTimeoutMs,
      bodyTimeoutMs: f.bodyTimeoutMs,
      idleTimeoutMs: f.idleTimeoutMs,
      maxConnections: f.maxConnections,
      memoryBudgetBytes: f.memoryBudgetBytes,
    }) as never,
  }
  const config = resolveServerConfig(input)
  const running = await startServer(config, createLogger())
  const store = redactUrl(config.storeUrl)
  io.out(f.json ? JSON.stringify({ url: running.url, open: running.open, store, queue: config.queueUrl ?? null }) : running.url)
  const where = `store ${store}${config.queueUrl ? `; publishing to ${config.queueUrl}` : ''}`
  if (running.open) {
    io.err(
      `inferlog: open mode: requests without an API key act as the local operator (loopback only; --require-keys turns this off); ${where}`,
    )
  } else {
    io.err(`inferlog: API keys required; ${where}`)
  }
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      io.err(`inferlog: ${sig}: finishing queued writes and closing`)
      resolve()
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
  })
  await running.close()
  return 0
}
