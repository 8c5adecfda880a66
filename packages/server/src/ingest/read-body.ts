import zlib from 'node:zlib'
import { InferlogError } from '../errors.js'
import type { MemoryHold } from '../http/memory-budget.js'

/** Options of {@link readBody}. */
export interface ReadBodyOptions {
  /** Largest body accepted, compressed or not. */
  maxBytes: number
  /** `Content-Length` header, if any: a declared size over the limit is refused before reading. */
  contentLength?: string | null | undefined
  /** `Content-Encoding` header: `gzip` or none/`identity`. */
  contentEncoding?: string | null | undefined
  /** Charged with every byte read and inflated, before it is kept. Default: nothing charged. */
  hold?: MemoryHold
  /**
   * Bytes the caller will hold per body byte once it has the body (parsing it: see
   * `PARSE_BYTES_PER_BYTE`). A gzip body's declared size (its trailer) is reserved on the hold
   * with this much on top of the inflation's own two bytes per byte, before anything is
   * inflated, so a body the budget cannot carry is refused (503) at once. Default 0.
   */
  reservePerByte?: number
}

const INFLATE_CHUNK = 64 * 1024
/** Header (10 bytes) and trailer (8 bytes) of a gzip member. */
const GZIP_MIN_BYTES = 18

/** A read of the request stream that fails is the client going away (abort, reset, timeout), not a server fault. */
function clientClosed(e: unknown): InferlogError {
  return new InferlogError('client_closed', `client closed the connection while sending its body: ${(e as Error)?.message ?? e}`, {
    cause: e,
  })
}

async function readAll(stream: ReadableStream<Uint8Array> | null, o: ReadBodyOptions): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0)
  const chunks: Uint8Array[] = []
  let total = 0
  const reader = stream.getReader()
  try {
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>
      try {
        next = await reader.read()
      } catch (e) {
        throw clientClosed(e)
      }
      if (next.done) break
      const value = next.value
      total += value.byteLength
      if (total > o.maxBytes) throw new InferlogError('payload_too_large', `request body is over the ${o.maxBytes}-byte limit`)
      o.hold?.add(value.byteLength)
      chunks.push(value)
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined)
    throw e
  }
  return Buffer.concat(chunks, total)
}

/**
 * Inflates gzip in 64 KiB steps, charging each step to the hold before the next one is produced,
 * so a small body that inflates to megabytes is refused (413 over the limit, 503 over the memory
 * budget) before the megabytes exist. Each step is charged twice: the chunks and the buffer they
 * are joined into are alive together. The size the trailer declares is reserved up front, so under
 * a flood a request is refused before it inflates anything rather than after it inflated part.
 */
function gunzipBounded(raw: Buffer, o: ReadBodyOptions): Promise<Buffer> {
  // The gzip trailer's size of the last member (the whole body but for rare multi-member ones,
  // where it is less); zlib fails the body if it does not match, so a declared size is safe to act on.
  const declared = raw.length >= GZIP_MIN_BYTES ? raw.readUInt32LE(raw.length - 4) : 0
  if (declared > o.maxBytes) {
    return Promise.reject(
      new InferlogError('payload_too_large', `decompressed body of ${declared} bytes is over the ${o.maxBytes}-byte limit`),
    )
  }
  try {
    o.hold?.reserve(declared * (2 + (o.reservePerByte ?? 0)))
  } catch (e) {
    return Promise.reject(e)
  }
  return new Promise((resolve, reject) => {
    const z = zlib.createGunzip({ chunkSize: INFLATE_CHUNK })
    const chunks: Buffer[] = []
    let total = 0
    let failed = false
    const fail = (e: unknown) => {
      if (failed) return
      failed = true
      z.destroy()
      reject(e)
    }
    z.on('data', (chunk: Buffer) => {
      if (failed) return
      total += chunk.length
      if (total > o.maxBytes) return fail(new InferlogError('payload_too_large', `decompressed body is over the ${o.maxBytes}-byte limit`))
      try {
        o.hold?.add(2 * chunk.length)
      } catch (e) {
        return fail(e)
      }
      chunks.push(chunk)
    })
    z.on('error', (e) => fail(new InferlogError('bad_request', `body is not valid gzip: ${e.message}`)))
    z.on('end', () => {
      if (failed) return
      const out = Buffer.concat(chunks, total)
      chunks.length = 0
      resolve(out)
    })
    z.end(raw)
  })
}

/**
 * Reads a request body into memory, never holding more than `maxBytes` (plus one chunk), and
 * decompresses gzip with the same cap on the output. Throws `payload_too_large` (413),
 * `unsupported_media_type` (415), `bad_request` (400, corrupt gzip), `overloaded` (503, memory
 * budget) or `client_closed` (the client went away mid-body).
 */
export async function readBody(stream: ReadableStream<Uint8Array> | null, o: ReadBodyOptions): Promise<Buffer> {
  const encoding = (o.contentEncoding ?? '').trim().toLowerCase()
  if (encoding !== '' && encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new InferlogError('unsupported_media_type', `Content-Encoding "${encoding}" is not supported (use gzip)`)
  }
  if (o.contentLength != null && Number(o.contentLength) > o.maxBytes) {
    throw new InferlogError('payload_too_large', `request body of ${o.contentLength} bytes is over the ${o.maxBytes}-byte limit`)
  }
  const raw = await readAll(stream, o)
  if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipBounded(raw, o)
  return raw
}
