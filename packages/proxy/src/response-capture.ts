import zlib from 'node:zlib'
import { createStreamAccumulator, type OpenAIOperation, type StreamAccumulator } from '@inferlog/sdk/openai'
import { createParser, type EventSourceParser } from 'eventsource-parser'

/** Options of {@link ResponseCapture}. */
export interface ResponseCaptureOptions {
  /** Bytes of a response kept for logging; past them the event records that the output was too large. Default 16 MiB. */
  maxBytes?: number
}

/** Default {@link ResponseCaptureOptions.maxBytes}. */
export const DEFAULT_CAPTURE_BYTES = 16 * 1024 * 1024

/** What a captured response turned out to be. */
export interface CapturedResponse {
  /** The response body (JSON), or for a stream the response rebuilt from its events. */
  body?: unknown
  /** Why there is no body: too large, not JSON. */
  problem?: string
}

/**
 * Reads a copy of an upstream response beside the bytes sent to the client: JSON bodies are
 * parsed at the end, server-sent events as they arrive (so the first token is seen when it
 * passes). A compressed body is inflated at the end (its first token is then not timed).
 */
export class ResponseCapture {
  private readonly chunks: Buffer[] = []
  private bytes = 0
  private overflow = false
  private readonly sse: boolean
  private readonly encoding: string
  private readonly acc: StreamAccumulator
  private parser: EventSourceParser | undefined
  private readonly decoder = new TextDecoder()
  private sawOutput = false
  private readonly maxBytes: number

  constructor(
    op: OpenAIOperation,
    headers: { 'content-type'?: string | undefined; 'content-encoding'?: string | undefined },
    o: ResponseCaptureOptions = {},
  ) {
    this.sse = (headers['content-type'] ?? '').toLowerCase().includes('text/event-stream')
    this.encoding = (headers['content-encoding'] ?? 'identity').toLowerCase()
    this.acc = createStreamAccumulator(op)
    this.maxBytes = o.maxBytes ?? DEFAULT_CAPTURE_BYTES
    if (this.sse && this.plain) this.parser = this.newParser()
  }

  private get plain(): boolean {
    return this.encoding === 'identity' || this.encoding === ''
  }

  private newParser(): EventSourceParser {
    return createParser({
      onEvent: (m) => {
        if (m.data === '[DONE]') return
        try {
          if (this.acc.add(JSON.parse(m.data))) this.sawOutput = true
        } catch {
          // A malformed event is the client's concern; the log keeps what it could read.
        }
      },
    })
  }

  /** Takes the next chunk; true when, for a stream, it carried the first output (a token, a tool call). */
  feed(chunk: Buffer): boolean {
    if (this.parser) {
      const before = this.sawOutput
      this.parser.feed(this.decoder.decode(chunk, { stream: true }))
      return !before && this.sawOutput
    }
    if (this.overflow) return false
    this.bytes += chunk.length
    if (this.bytes > this.maxBytes) {
      this.overflow = true
      this.chunks.length = 0
      return false
    }
    this.chunks.push(chunk)
    return false
  }

  /** The response as far as it came. */
  finish(): CapturedResponse {
    if (this.parser) {
      this.parser.feed(this.decoder.decode())
      const body = this.acc.response()
      return body ? { body } : { problem: 'the stream carried no event' }
    }
    if (this.overflow) return { problem: `response over the ${this.maxBytes}-byte capture limit` }
    let raw = Buffer.concat(this.chunks)
    try {
      if (this.encoding === 'gzip' || this.encoding === 'x-gzip') raw = zlib.gunzipSync(raw)
      else if (this.encoding === 'deflate') raw = zlib.inflateSync(raw)
      else if (this.encoding === 'br') raw = zlib.brotliDecompressSync(raw)
    } catch {
      return { problem: `response body is not valid ${this.encoding}` }
    }
    if (this.sse) {
      this.parser = this.newParser()
      this.parser.feed(raw.toString('utf8'))
      const body = this.acc.response()
      return body ? { body } : { problem: 'the stream carried no event' }
    }
    try {
      return { body: JSON.parse(raw.toString('utf8')) }
    } catch {
      return { problem: 'response body is not JSON' }
    }
  }
}
