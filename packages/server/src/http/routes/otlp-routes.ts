import { Hono } from 'hono'
import type { Authenticator } from '../../auth/authenticator.js'
import type { LimitsConfig } from '../../config.js'
import { InferlogError } from '../../errors.js'
import type { IngestService } from '../../ingest/ingest-service.js'
import { readBody } from '../../ingest/read-body.js'
import type { ServerMetrics } from '../../metrics.js'
import { ingestTraces, partialSuccess, type TraceExportResult } from '../../otlp/ingest-traces.js'
import { loadOtlpProtobuf, type OtlpProtobufCodec } from '../../otlp/otlp-protobuf.js'
import type { DecodedTraces } from '../../otlp/otlp-span.js'
import { readExportRequest } from '../../otlp/read-export-request.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'
import { type MemoryBudget, type MemoryHold, PARSE_BYTES_PER_BYTE, parseCost } from '../memory-budget.js'

/** What the OTLP route needs. */
export interface OtlpRoutesDeps {
  auth: Authenticator
  ingest: IngestService
  limits: LimitsConfig
  budget: MemoryBudget
  metrics: ServerMetrics
}

type Encoding = 'json' | 'protobuf'

/** OTLP/HTTP names two encodings; anything else is a 415. */
function encodingOf(contentType: string | undefined): Encoding {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  if (t === 'application/json' || t === '') return 'json'
  if (t === 'application/x-protobuf' || t === 'application/protobuf') return 'protobuf'
  throw new InferlogError('unsupported_media_type', `Content-Type "${t}" is not OTLP/HTTP; send application/json or application/x-protobuf`)
}

/** Decoded objects weigh more than their protobuf bytes: charged as this many times the body. */
const PROTOBUF_EXPANSION = 12

async function readTraces(req: Request, encoding: Encoding, codec: () => OtlpProtobufCodec, limits: LimitsConfig, hold: MemoryHold) {
  const body = await readBody(req.body, {
    maxBytes: limits.maxBodyBytes,
    contentLength: req.headers.get('content-length'),
    contentEncoding: req.headers.get('content-encoding'),
    hold,
    reservePerByte: encoding === 'protobuf' ? PROTOBUF_EXPANSION : PARSE_BYTES_PER_BYTE,
  })
  if (encoding === 'protobuf') {
    hold.add(PROTOBUF_EXPANSION * body.length)
    return readExportRequest(codec().decodeRequest(body))
  }
  hold.add(parseCost(body))
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch (e) {
    throw new InferlogError('invalid_json', `body is not valid OTLP/JSON: ${(e as Error).message}`)
  }
  return readExportRequest(parsed)
}

function count(m: ServerMetrics, r: TraceExportResult): void {
  const stored = r.spans - r.ignored - r.rejectedSpans
  if (stored > 0) m.otlpSpans.inc({ outcome: 'stored' }, stored)
  if (r.ignored > 0) m.otlpSpans.inc({ outcome: 'ignored' }, r.ignored)
  if (r.rejectedSpans > 0) m.otlpSpans.inc({ outcome: 'rejected' }, r.rejectedSpans)
}

/**
 * `POST /v1/traces`: OTLP/HTTP traces, JSON or protobuf, gzip or not. GenAI spans become
 * events and their evaluations feedback through the ingest pipeline (scope `ingest`); the reply
 * is an `ExportTraceServiceResponse` in the request's encoding, with `partial_success` naming
 * refused spans and saying what happened to the rest. Always 200 once the body is read; a body
 * that is not an export request at all is a 400, never a 500.
 */
export function otlpRoutes(d: OtlpRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  let codec: OtlpProtobufCodec | undefined
  // Loaded on the first protobuf request: JSON-only deployments never read the .proto files.
  const protobufCodec = () => (codec ??= loadOtlpProtobuf())
  app.post('/traces', requireScope(d.auth, 'ingest'), async (c) => {
    const encoding = encodingOf(c.req.header('content-type'))
    const hold = d.budget.hold()
    let decoded: DecodedTraces | undefined
    try {
      decoded = await readTraces(c.req.raw, encoding, protobufCodec, d.limits, hold)
      const result = await ingestTraces(decoded, d.ingest, c.get('principal').project, d.limits.maxBatchItems)
      decoded = undefined
      count(d.metrics, result)
      const partial = partialSuccess(result)
      c.header(
        'x-inferlog-otlp',
        `spans=${result.spans}; events=${result.events}; feedback=${result.feedback}; ignored=${result.ignored}; rejected=${result.rejectedSpans}`,
      )
      if (encoding === 'protobuf') {
        const bytes = protobufCodec().encodeResponse(partial)
        return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/x-protobuf' })
      }
      // proto3 JSON writes int64 as a decimal string.
      return c.json(partial ? { partialSuccess: { rejectedSpans: String(partial.rejectedSpans), errorMessage: partial.errorMessage } } : {})
    } finally {
      hold.release()
    }
  })
  return app
}
