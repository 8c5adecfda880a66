import { resolveServerConfig, startServer, stderrLogger } from '@inferlog/server'
import type { Io } from '../common.js'

/** Flags of `inferlog serve`. */
export interface ServeFlags {
  port?: string
  host?: string
  data?: string
  store?: string
  queue?: string
  json?: boolean
}

/** A URL as it may be printed: any password replaced by `***`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*:)[^@/?#]*@/i, '$1***@')
}

/**
 * Runs the collector until SIGINT/SIGTERM. The first line on stdout is the URL it listens on
 * (with `--json`: `{"url", "open", "store", "queue"}`). With `--queue nats://…` it is a stateless
 * scale-out collector: accepted items go to JetStream, `inferlog worker` writes them to the store.
 */
export async function serveCommand(f: ServeFlags, io: Io): Promise<number> {
  const config = resolveServerConfig({
    ...(f.host !== undefined ? { host: f.host } : {}),
    ...(f.port !== undefined ? { port: f.port } : {}),
    ...(f.data !== undefined ? { data: f.data } : {}),
    ...(f.store !== undefined ? { store: f.store } : {}),
    ...(f.queue !== undefined ? { queue: f.queue } : {}),
  })
  const running = await startServer(config, stderrLogger())
  const store = redactUrl(config.storeUrl)
  io.out(f.json ? JSON.stringify({ url: running.url, open: running.open, store, queue: config.queueUrl ?? null }) : running.url)
  const where = `store ${store}${config.queueUrl ? `; publishing to ${config.queueUrl}` : ''}`
  if (running.open) {
    io.err(`inferlog: open mode — no API keys configured, listening on loopback only; ${where}`)
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
