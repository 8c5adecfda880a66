import type { Context } from 'hono'
import { InferlogError } from '../errors.js'
import { readBody } from '../ingest/read-body.js'
import { bodyFormat } from './content-type.js'
import { type MemoryBudget, PARSE_BYTES_PER_BYTE, parseCost } from './memory-budget.js'

/** Largest body of a non-ingest JSON request (keys, configuration, analysis requests). Default 1 MiB. */
export const MAX_CONTROL_BODY_BYTES = 1024 * 1024

/**
 * Reads a small JSON request body (an object) under the same rules as ingest: accepted content
 * types, gzip, a size limit, the memory budget. `invalid_json` when it is not a JSON object.
 */
export async function readJsonObject(
  c: Context,
  budget: MemoryBudget,
  what: string,
  maxBytes = MAX_CONTROL_BODY_BYTES,
): Promise<Record<string, unknown>> {
  bodyFormat(c.req.header('content-type'), false)
  const hold = budget.hold()
  try {
    const body = await readBody(c.req.raw.body, {
      maxBytes,
      contentLength: c.req.header('content-length'),
      contentEncoding: c.req.header('content-encoding'),
      hold,
      reservePerByte: PARSE_BYTES_PER_BYTE,
    })
    hold.add(parseCost(body))
    let value: unknown
    try {
      value = JSON.parse(body.toString('utf8'))
    } catch {
      throw new InferlogError('invalid_json', `body must be a JSON object: ${what}`)
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InferlogError('invalid_json', `body must be a JSON object: ${what}`)
    }
    return value as Record<string, unknown>
  } finally {
    hold.release()
  }
}
