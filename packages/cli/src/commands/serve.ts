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

/**
 * Runs the collector until SIGINT/SIGTERM. The first line on stdout is the URL it listens on
 * (with `--json`: `{"url", "open", "store"}`).
 */
export async function serveCommand(f: ServeFlags, io: Io): Promise<number> {
  if (f.queue) {
    io.err('inferlog: --queue (NATS JetStream scale-out) is not available in this release; run without --queue')
    return 2
  }
  const config = resolveServerConfig({
    ...(f.host !== undefined ? { host: f.host } : {}),
    ...(f.port !== undefined ? { port: f.port } : {}),
    ...(f.data !== undefined ? { data: f.data } : {}),
    ...(f.store !== undefined ? { store: f.store } : {}),
  })
  const running = await startServer(config, stderrLogger())
  io.out(f.json ? JSON.stringify({ url: running.url, open: running.open, store: config.storeUrl }) : running.url)
  if (running.open) {
    io.err(`inferlog: open mode — no API keys configured, listening on loopback only; store ${config.storeUrl}`)
  } else {
    io.err(`inferlog: API keys required; store ${config.storeUrl}`)
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
