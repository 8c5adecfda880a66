import { DatasetError } from '../errors.js'
import type { SourceEvent } from '../source/dataset-source.js'
import { type ObjectSpans, objectSpans, pathValue } from './json-spans.js'

/**
 * One stored event, read lazily: members are located in the stored text once, copied as text
 * where a row needs them verbatim, and parsed only when a value is needed (a `where` path, the
 * split key, a tabular feature).
 */
export class EventView {
  readonly id: string
  readonly batch: number
  readonly seq: number
  readonly tsMs: number
  readonly body: string
  readonly #spans: ObjectSpans
  #parsed: Map<string, unknown> | undefined

  constructor(event: SourceEvent) {
    this.id = event.id
    this.batch = event.batch
    this.seq = event.seq
    this.tsMs = event.tsMs
    this.body = event.body
    try {
      // Scanned in the string the body was cut from when the source hands it (faster in V8).
      const host = event.host
      this.#spans = host === undefined ? objectSpans(event.body) : objectSpans(host, host.length - event.body.length)
    } catch (e) {
      throw new DatasetError('invalid_record', `event ${event.id}: stored body is not a JSON object`, { cause: e })
    }
  }

  /** The member's JSON text, on one line; `undefined` when absent. */
  raw(key: string): string | undefined {
    return this.#spans.value(key)
  }

  /** The member's value; `undefined` when absent. */
  get(key: string): unknown {
    this.#parsed ??= new Map()
    if (this.#parsed.has(key)) return this.#parsed.get(key)
    const text = this.raw(key)
    const value = text === undefined ? undefined : JSON.parse(text)
    this.#parsed.set(key, value)
    return value
  }

  /**
   * The value at a dotted path (`trace.session_id`); `undefined` when any step is missing. Walks
   * the text through nested objects and parses only the leaf, unless the member is already parsed.
   */
  at(path: readonly string[]): unknown {
    if (path.length === 0) return undefined
    const head = path[0]!
    if (path.length === 1 || this.#parsed?.has(head)) {
      let v = this.get(head)
      for (let i = 1; i < path.length && v !== undefined; i++) {
        v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[path[i]!] : undefined
      }
      return v
    }
    const spans = this.#spans
    const k = spans.find(head)
    return k < 0 ? undefined : pathValue(spans.text, path, spans.pos[k + 2]!, 1)
  }

  /** `ts` as JSON text: the stored string (full precision) or, when the client sent none, the receipt time. */
  tsJson(): string {
    const raw = this.raw('ts')
    return raw !== undefined && raw.charCodeAt(0) === 34 ? raw : `"${new Date(this.tsMs).toISOString()}"`
  }
}
