import type { DirectIngest, DirectIngestModule, DirectIngestResult } from '@inferlog/schema'
import { createApp } from './http/create-app.js'
import { DEFAULT_LIMITS } from './config.js'
import { isInferlogError } from './errors.js'
import { parseNdjson } from './ingest/parse-items.js'
import { createMetrics } from './metrics.js'
import { openStore } from './store/open-store.js'

/**
 * In-process ingest for the SDK's `store` option: the collector's own pipeline (validation,
 * idempotency, group commit) over a store this call opens and migrates, without HTTP. The shape
 * is declared once in `@inferlog/schema` (`DirectIngestModule`).
 */
export const openDirectIngest = (async (storeUrl, options = {}): Promise<DirectIngest> => {
  const warn = options.onWarning ?? (() => undefined)
  const store = openStore(storeUrl, { onWarning: warn })
  try {
    await store.migrate()
  } catch (e) {
    await store.close().catch(() => undefined)
    throw e
  }
  const app = createApp({
    store,
    metrics: createMetrics(false),
    logger: {
      info: () => undefined,
      warn: (m: string) => warn(m),
      error: (m: string, e?: unknown) => warn(e instanceof Error ? `${m}: ${e.message}` : m),
    },
  })
  let closing: Promise<void> | undefined
  return {
    async ingestNdjson(kind, project, body): Promise<DirectIngestResult> {
      const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
      try {
        const reply = await app.ingest.ingest(kind, project, parseNdjson(buf, DEFAULT_LIMITS.maxEventBytes))
        return { status: reply.rejected.length === 0 ? 200 : 207, reply }
      } catch (e) {
        if (!isInferlogError(e)) return { status: 500, message: e instanceof Error ? e.message : String(e) }
        return {
          status: e.status,
          errorCode: e.code,
          message: e.message,
          ...(e.retryAfter !== undefined ? { retryAfterMs: e.retryAfter * 1000 } : {}),
        }
      }
    },
    close: () =>
      (closing ??= (async () => {
        await app.close()
        await store.close()
      })()),
  }
}) satisfies DirectIngestModule['openDirectIngest']
