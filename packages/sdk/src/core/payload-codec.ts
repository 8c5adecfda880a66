import type { Payload, Platform, RecordKind } from './platform.js'

/** Turns NDJSON bytes into request payloads, and payloads back into smaller ones. */
export interface PayloadCodec {
  /** Compresses `raw` when the transport wants it; otherwise the payload holds `raw` itself. */
  encode(kind: RecordKind, raw: Uint8Array, count: number): Promise<Payload>
  /** Splits a payload the collector found too large into two halves (by lines). */
  split(p: Payload): Promise<Payload[]>
}

/**
 * @param compress whether the transport takes gzip (HTTP does, the direct-to-store sender not).
 * @param gzipLevel 1–9, or 0 for no compression.
 */
export function createPayloadCodec(platform: Platform, compress: boolean, gzipLevel: number): PayloadCodec {
  const gzip = compress && gzipLevel > 0 ? platform.gzip : undefined

  async function encode(kind: RecordKind, raw: Uint8Array, count: number): Promise<Payload> {
    if (gzip) return { kind, body: await gzip(raw, gzipLevel), encoding: 'gzip', count }
    return { kind, body: raw, encoding: 'identity', count }
  }

  async function split(p: Payload): Promise<Payload[]> {
    let raw = p.body
    if (p.encoding === 'gzip') {
      if (!platform.gunzip) throw new Error('this runtime cannot decompress a gzip payload to split it')
      raw = await platform.gunzip(raw)
    }
    const lines = platform
      .decodeUtf8(raw)
      .split('\n')
      .filter((l) => l !== '')
    const mid = Math.ceil(lines.length / 2)
    const out: Payload[] = []
    for (const part of [lines.slice(0, mid), lines.slice(mid)]) {
      if (part.length === 0) continue
      out.push(await encode(p.kind, platform.encodeUtf8(`${part.join('\n')}\n`), part.length))
    }
    return out
  }

  return { encode, split }
}
