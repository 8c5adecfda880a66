import { Hono } from 'hono'
import type { Authenticator } from '../../auth/authenticator.js'
import type { LimitsConfig } from '../../config.js'
import type { IngestKind, IngestService } from '../../ingest/ingest-service.js'
import { type ParsedItem, parseJsonBody, parseNdjson } from '../../ingest/parse-items.js'
import { readBody } from '../../ingest/read-body.js'
import type { AppEnv } from '../app-env.js'
import { type BodyFormat, bodyFormat } from '../content-type.js'
import { requireScope } from '../guard.js'
import { type MemoryBudget, type MemoryHold, PARSE_BYTES_PER_BYTE, parseCost } from '../memory-budget.js'

/** What the ingest routes need. */
export interface IngestRoutesDeps {
  auth: Authenticator
  ingest: IngestService
  limits: LimitsConfig
  budget: MemoryBudget
}

/**
 * Reads, charges and parses a request body. A function of its own so the raw buffer is garbage as
 * soon as the items exist, not held while they wait for the commit.
 */
async function readItems(req: Request, format: BodyFormat, limits: LimitsConfig, hold: MemoryHold): Promise<ParsedItem[]> {
  const body = await readBody(req.body, {
    maxBytes: limits.maxBodyBytes,
    contentLength: req.headers.get('content-length'),
    contentEncoding: req.headers.get('content-encoding'),
    hold,
    reservePerByte: PARSE_BYTES_PER_BYTE,
  })
  hold.add(parseCost(body, format === 'ndjson'))
  return format === 'ndjson' ? parseNdjson(body, limits.maxEventBytes, limits.maxBatchItems) : parseJsonBody(body)
}

/**
 * `POST /v1/events` and `POST /v1/feedback`: body checked for type and size, read and inflated
 * under the memory budget, parsed per item, committed, answered per item.
 */
export function ingestRoutes(d: IngestRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const handle = (kind: IngestKind) =>
    app.post(kind === 'event' ? '/events' : '/feedback', requireScope(d.auth, 'ingest'), async (c) => {
      const format = bodyFormat(c.req.header('content-type'))
      // Held until the reply: the body, its parsed items and their records waiting for the commit.
      const hold = d.budget.hold()
      try {
        const items = await readItems(c.req.raw, format, d.limits, hold)
        const reply = await d.ingest.ingest(kind, c.get('principal').project, items)
        return c.json(reply, reply.rejected.length === 0 ? 200 : 207)
      } finally {
        hold.release()
      }
    })
  handle('event')
  handle('feedback')
  return app
}
