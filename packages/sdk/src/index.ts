/**
 * `@inferlog/sdk` for Node 20+: log every prediction to an inferlog collector without slowing or
 * breaking the model. The runtime-neutral core lives in `core/`; this entry wires the Node parts
 * (`node/`: keep-alive HTTP, zlib gzip, the fs spool, exit hooks, direct-to-store).
 */
import { createHash } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { createLoggerWith, DEFAULTS, type Logger } from './core/logger.js'
import type { Spool } from './core/platform.js'
import { InferlogSdkError } from './errors.js'
import { FsSpool } from './node/fs-spool.js'
import { createHttpSender, parseCollectorUrl } from './node/http-sender.js'
import { nodePlatform } from './node/node-platform.js'
import { createStoreSender } from './node/store-sender.js'
import type { LoggerOptions } from './options.js'

export type * from './options.js'
export { InferlogSdkError, type SdkErrorCode } from './errors.js'
export { createLoggerWith, DEFAULTS, consoleErrorHandler } from './core/logger.js'
export type { Logger, Span, Phase, WrapOptions, FeedbackExtra, FlushOptions, LoggerDeps } from './core/logger.js'
export type { LoggerStats } from './core/stats.js'
export type { Platform, Sender, SendResult, Spool, SpoolEntry, Payload, RecordKind, TimerHandle } from './core/platform.js'
export { createUuidV7, type IdGenerator } from '@inferlog/schema'
export { redactString, luhnValid } from './core/redact.js'
export { nodePlatform } from './node/node-platform.js'
export { createHttpSender, type HttpSenderOptions } from './node/http-sender.js'
export { FsSpool, type FsSpoolOptions } from './node/fs-spool.js'
export { createStoreSender, type StoreSenderOptions } from './node/store-sender.js'

function defaultSpoolDir(project: string | undefined, target: string): string {
  const p = (project ?? 'default').replace(/[^A-Za-z0-9._-]/g, '_')
  const h = createHash('sha256').update(target).digest('hex').slice(0, 8)
  return path.join(os.tmpdir(), 'inferlog-spool', `${p}-${h}`)
}

/**
 * Creates a logger. Options are checked here (a TypeError for nonsense values); from then on
 * nothing the logger does throws into the host: failures go to `onError` and `stats()`.
 *
 * ```ts
 * const log = createLogger({ url: 'http://127.0.0.1:7070', model: { name: 'churn-clf', version: '3.2.0' } })
 * const id = log.log({ input, output })
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const platform = nodePlatform()
  const env = process.env
  const project = options.project ?? env.INFERLOG_PROJECT
  const apiKey = options.apiKey ?? env.INFERLOG_API_KEY
  const url = options.url ?? env.INFERLOG_URL ?? DEFAULTS.url
  // Checked here so the message names where a bad value came from.
  if (!options.store) parseCollectorUrl(url, options.url === undefined && env.INFERLOG_URL !== undefined ? 'url ($INFERLOG_URL)' : 'url')
  const http = options.http ?? {}
  const warn = (message: string) => {
    try {
      ;(options.onError ?? ((e: InferlogSdkError) => console.warn(`[inferlog] ${e.code}: ${e.message}`)))(
        new InferlogSdkError('store_unavailable', message),
      )
    } catch {
      // never into the host
    }
  }
  const sender = options.store
    ? createStoreSender({ store: options.store, project: project ?? 'default', platform, onWarning: warn })
    : createHttpSender({
        url,
        ...(apiKey ? { apiKey } : {}),
        ...(project ? { project } : {}),
        concurrency: http.concurrency ?? DEFAULTS.http.concurrency,
        timeoutMs: http.timeoutMs ?? DEFAULTS.http.timeoutMs,
        compress: (http.gzipLevel ?? DEFAULTS.http.gzipLevel) > 0,
        ...(http.headers ? { headers: http.headers } : {}),
      })
  let spool: Spool | undefined
  let spoolReady: Promise<void> | undefined
  const dir = options.spool?.dir
  if (dir !== false) {
    const fs = new FsSpool({
      dir: dir ?? defaultSpoolDir(project, options.store ?? url),
      maxBytes: options.spool?.maxBytes ?? DEFAULTS.spool.maxBytes,
      fsync: options.spool?.fsync ?? DEFAULTS.spool.fsync,
    })
    spool = fs
    spoolReady = fs.open()
  }
  return createLoggerWith(options, { platform, sender, ...(spool ? { spool } : {}), ...(spoolReady !== undefined ? { spoolReady } : {}) })
}
