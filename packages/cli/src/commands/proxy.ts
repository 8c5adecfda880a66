import { startProxy } from '@inferlog/proxy'
import { createLogger } from '@inferlog/sdk'
import { type Io, locateServer } from '../common.js'

/** Flags of `inferlog proxy`. */
export interface ProxyFlags {
  upstream: string
  port?: string
  host?: string
  /** Collector URL. */
  url?: string
  apiKey?: string
  project?: string
  timeoutMs?: string
  /** Run the e-mail/phone/card detectors over logged payloads. */
  redact?: boolean
  /** Field paths to drop from logged events (implies the detectors). */
  redactPath?: string[]
  json?: boolean
}

function whole(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v))
    throw Object.assign(new Error(`${name} must be a whole number, got ${JSON.stringify(v)}`), { code: 'invalid_parameter' })
  return Number(v)
}

/**
 * `inferlog proxy --upstream BASE_URL`: an OpenAI-compatible proxy that logs every call to the
 * collector through `@inferlog/sdk` (batched, retried, spooled; redaction applied in the SDK).
 * The first line on stdout is the URL it listens on; OpenAI clients use `<url>/v1` as their base
 * URL. Runs until SIGINT/SIGTERM, then flushes the log.
 */
export async function proxyCommand(f: ProxyFlags, io: Io): Promise<number> {
  const collector = locateServer(f)
  const apiKey = f.apiKey ?? process.env.INFERLOG_API_KEY
  const redactPaths = f.redactPath ?? []
  const logger = createLogger({
    url: collector.url,
    ...(apiKey ? { apiKey } : {}),
    ...(f.project ? { project: f.project } : {}),
    ...(redactPaths.length > 0 ? { redact: { paths: redactPaths } } : f.redact ? { redact: true } : {}),
    flushOnExit: false,
  })
  const port = whole('--port', f.port)
  const timeoutMs = whole('--timeout-ms', f.timeoutMs)
  let running: Awaited<ReturnType<typeof startProxy>>
  try {
    running = await startProxy({
      upstream: f.upstream,
      logger,
      ...(port !== undefined ? { port } : {}),
      ...(f.host ? { host: f.host } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    })
  } catch (e) {
    await logger.close({ timeoutMs: 1000 })
    throw e
  }
  io.out(
    f.json
      ? JSON.stringify({ url: running.url, base_url: `${running.url}/v1`, upstream: f.upstream, collector: collector.url })
      : running.url,
  )
  io.err(
    `inferlog: proxying ${running.url}/v1 -> ${f.upstream}; logging to ${collector.url}${collector.source === 'default' ? ' (default)' : ''}`,
  )
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      io.err(`inferlog: ${sig}: closing and flushing the log`)
      resolve()
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
  })
  await running.close()
  await logger.close({ timeoutMs: 5000 })
  return 0
}
