import { promisify } from 'node:util'
import zlib from 'node:zlib'
import { InferlogError } from '../errors.js'

const gunzip = promisify(zlib.gunzip)

/** Options of {@link readBody}. */
export interface ReadBodyOptions {
  /** Largest body accepted, compressed or not. */
  maxBytes: number
  /** `Content-Length` header, if any: a declared size over the limit is refused before reading. */
  contentLength?: string | null
  /** `Content-Encoding` header: `gzip` or none/`identity`. */
  contentEncoding?: string | null
}

/**
 * Reads a request body into memory, never holding more than `maxBytes` (plus one chunk), and
 * decompresses gzip with the same cap on the output. Throws `payload_too_large` (413),
 * `unsupported_media_type` (415) or `bad_request` (400, corrupt gzip).
 */
export async function readBody(stream: ReadableStream<Uint8Array> | null, o: ReadBodyOptions): Promise<Buffer> {
  const encoding = (o.contentEncoding ?? '').trim().toLowerCase()
  if (encoding !== '' && encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new InferlogError('unsupported_media_type', `Content-Encoding "${encoding}" is not supported (use gzip)`)
  }
  if (o.contentLength != null && Number(o.contentLength) > o.maxBytes) {
    throw new InferlogError('payload_too_large', `request body of ${o.contentLength} bytes is over the ${o.maxBytes}-byte limit`)
  }
  const chunks: Uint8Array[] = []
  let total = 0
  if (stream) {
    const reader = stream.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.byteLength
      if (total > o.maxBytes) {
        await reader.cancel().catch(() => undefined)
        throw new InferlogError('payload_too_large', `request body is over the ${o.maxBytes}-byte limit`)
      }
      chunks.push(value)
    }
  }
  const raw = Buffer.concat(chunks, total)
  if (encoding === 'gzip' || encoding === 'x-gzip') {
    try {
      return await gunzip(raw, { maxOutputLength: o.maxBytes })
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new InferlogError('payload_too_large', `decompressed body is over the ${o.maxBytes}-byte limit`)
      }
      throw new InferlogError('bad_request', `body is not valid gzip: ${(e as Error).message}`)
    }
  }
  return raw
}
