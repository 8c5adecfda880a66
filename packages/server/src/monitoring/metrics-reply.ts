import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { brotliCompress, constants as zlib, gzip } from 'node:zlib'
import { InferlogError } from '../errors.js'

const gzipAsync = promisify(gzip)
const brotliAsync = promisify(brotliCompress)

/** Top-level keys of a metrics point that `fields=` may name (`start` is always kept). */
export const POINT_FIELDS = ['start', 'count', 'n', 'n_eff', 'errors', 'error_rate', 'latency_ms', 'usage', 'quality', 'estimated'] as const

/** Most paths one `fields=` may list. */
export const MAX_FIELDS = 64

/**
 * The figures of each point a client asked for (`fields=`): a tree of path segments, a leaf
 * (`true`) keeping everything below it. `start` is always kept.
 */
export type FieldSelection = { [key: string]: FieldSelection | true }

/**
 * Parses `fields=` (a comma list of dotted paths into a point, e.g.
 * `count,error_rate,latency_ms.total.p99,quality.label.accuracy.value`). The first segment must be
 * a point field ({@link POINT_FIELDS}); deeper ones (phases, feedback names, figures) are free and
 * a path that names nothing in a point leaves nothing. A deeper segment `*` matches every key at
 * its level (`quality.*.coverage`: the coverage of every feedback name), so a client need not know
 * the names first. Undefined for an absent or empty list.
 *
 * @throws InferlogError `invalid_parameter` naming an unknown field, an empty segment, or more than {@link MAX_FIELDS} paths
 */
export function parseFields(raw: string | undefined): FieldSelection | undefined {
  if (raw === undefined) return undefined
  const paths = [
    ...new Set(
      raw
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    ),
  ]
  if (paths.length === 0) return undefined
  if (paths.length > MAX_FIELDS) throw new InferlogError('invalid_parameter', `fields lists at most ${MAX_FIELDS} paths`)
  const root: FieldSelection = { start: true }
  for (const p of paths.sort()) {
    const segs = p.split('.')
    if (segs.some((s) => s === '')) throw new InferlogError('invalid_parameter', `fields: empty segment in ${JSON.stringify(p)}`)
    if (!(POINT_FIELDS as readonly string[]).includes(segs[0] as string))
      throw new InferlogError('invalid_parameter', `unknown field ${JSON.stringify(segs[0])} in fields; known: ${POINT_FIELDS.join(', ')}`)
    let at = root
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i] as string
      const cur = Object.hasOwn(at, s) ? at[s] : undefined
      if (cur === true) break // a shorter path already keeps all of it
      if (i === segs.length - 1) {
        at[s] = true
        break
      }
      let next = cur
      if (next === undefined) {
        next = Object.create(null) as FieldSelection
        at[s] = next
      }
      at = next
    }
  }
  return root
}

/** The canonical text of a selection (a cache-key part): sorted paths. */
export function fieldsKey(sel: FieldSelection | undefined): string {
  if (!sel) return ''
  const out: string[] = []
  const walk = (s: FieldSelection, prefix: string) => {
    for (const k of Object.keys(s).sort()) {
      const v = s[k] as FieldSelection | true
      if (v === true) out.push(prefix + k)
      else walk(v, `${prefix}${k}.`)
    }
  }
  walk(sel, '')
  return out.join(',')
}

/** Both selections' paths: what either keeps (a `true` keeps everything below it). */
function union(a: FieldSelection | true, b: FieldSelection | true): FieldSelection | true {
  if (a === true || b === true) return true
  const out: FieldSelection = Object.create(null) as FieldSelection
  for (const [k, v] of Object.entries(a)) out[k] = v
  for (const [k, v] of Object.entries(b)) out[k] = Object.hasOwn(out, k) ? union(out[k] as FieldSelection | true, v) : v
  return out
}

/**
 * The parts of `value` a selection keeps, in `value`'s own key order; an object left empty by
 * the selection is dropped (undefined at the top means nothing was kept). A `*` key of the
 * selection applies to every key of `value` at its level, besides any that is named.
 */
export function project(value: unknown, sel: FieldSelection): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  const out: Record<string, unknown> = {}
  let any = false
  const wild = Object.hasOwn(sel, '*') ? (sel['*'] as FieldSelection | true) : undefined
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const named = Object.hasOwn(sel, k) ? (sel[k] as FieldSelection | true) : undefined
    const s = named === undefined ? wild : wild === undefined ? named : union(named, wild)
    if (s === undefined) continue
    const kept = s === true ? v : project(v, s)
    if (kept === undefined) continue
    out[k] = kept
    any = true
  }
  return any ? out : undefined
}

/** Content codings a reply may be sent in, best first. */
export type ReplyEncoding = 'br' | 'gzip'

/** One serialized reply and its compressed forms (made on first request, then kept). */
export class SerializedReply {
  /** A weak validator: the same query at the same aggregate revision has the same bytes. */
  readonly etag: string
  private readonly encoded = new Map<ReplyEncoding, Promise<Buffer>>()

  constructor(
    /** The UTF-8 JSON text. */
    readonly body: Buffer,
    /** Aggregate revision (the metrics consumer's watermark) the reply was read at; undefined when not cacheable. */
    readonly revision: number | undefined,
    key: string,
    /** The reader's parts of the reply (point texts), kept to bring it up to date cheaply. */
    readonly built?: { revision?: number },
  ) {
    if (built) built.revision = revision
    const h = createHash('sha256').update(key).digest('base64url').slice(0, 16)
    this.etag =
      revision === undefined ? `W/"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` : `W/"m${revision}-${h}"`
  }

  /**
   * The body compressed with `enc` (off the event loop, in libuv's pool; brotli at quality 4 and
   * gzip at level 5, fast settings: a 5 MB reply compresses in tens of ms, ~15× smaller).
   */
  encode(enc: ReplyEncoding): Promise<Buffer> {
    let p = this.encoded.get(enc)
    if (!p) {
      p =
        enc === 'br'
          ? brotliAsync(this.body, {
              params: {
                [zlib.BROTLI_PARAM_QUALITY]: 4,
                [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
                [zlib.BROTLI_PARAM_SIZE_HINT]: this.body.length,
              },
            })
          : gzipAsync(this.body, { level: 5 })
      this.encoded.set(enc, p)
      p.catch(() => this.encoded.delete(enc))
    }
    return p
  }
}

/**
 * The coding to send for an `Accept-Encoding` header: `br` before `gzip`, neither when the header
 * refuses it (`q=0`) or does not name it (`*` counts). Undefined: send the identity.
 */
export function chooseEncoding(acceptEncoding: string | undefined): ReplyEncoding | undefined {
  if (!acceptEncoding) return undefined
  const q = new Map<string, number>()
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';')
    if (!name) continue
    let weight = 1
    for (const p of params) {
      const m = /^\s*q=([0-9.]+)\s*$/.exec(p)
      if (m) weight = Number(m[1])
    }
    q.set(name.trim(), weight)
  }
  const ok = (enc: string) => (q.get(enc) ?? q.get('*') ?? 0) > 0
  if (ok('br')) return 'br'
  if (ok('gzip')) return 'gzip'
  return undefined
}

/** Options of {@link MetricsReplyCache}. */
export interface MetricsReplyCacheOptions {
  /** Most bytes of replies kept (least recently used go first). Default 64 MiB. */
  maxBytes?: number
  /** Largest single reply kept, bytes. Default 16 MiB. */
  maxEntryBytes?: number
}

/**
 * Serialized `GET /v1/metrics` replies by (project, normalized query, fields), each valid for the
 * aggregate revision it was read at: a request whose revision differs reads the buckets again.
 * Bounded by bytes, least recently used first out. One per reader, never shared across processes.
 */
export class MetricsReplyCache {
  private readonly entries = new Map<string, SerializedReply>()
  private held = 0
  private readonly maxBytes: number
  private readonly maxEntryBytes: number
  hits = 0
  misses = 0

  constructor(o: MetricsReplyCacheOptions = {}) {
    this.maxBytes = o.maxBytes ?? 64 * 1024 * 1024
    this.maxEntryBytes = o.maxEntryBytes ?? 16 * 1024 * 1024
  }

  /** The reply of `key` at `revision`, if kept. */
  get(key: string, revision: number): SerializedReply | undefined {
    const e = this.entries.get(key)
    if (!e || e.revision !== revision) {
      this.misses++
      return undefined
    }
    this.entries.delete(key)
    this.entries.set(key, e)
    this.hits++
    return e
  }

  /** The reply kept under `key` at whatever revision (to bring it up to date). */
  latest(key: string): SerializedReply | undefined {
    return this.entries.get(key)
  }

  /** Keeps `reply` under `key` (replacing an older revision), then trims to the budget. */
  set(key: string, reply: SerializedReply): void {
    const old = this.entries.get(key)
    if (old) {
      this.entries.delete(key)
      this.held -= sizeOf(old)
    }
    if (reply.body.length > this.maxEntryBytes || reply.revision === undefined) return
    this.entries.set(key, reply)
    this.held += sizeOf(reply)
    for (const [k, e] of this.entries) {
      if (this.held <= this.maxBytes) break
      this.entries.delete(k)
      this.held -= sizeOf(e)
    }
  }
}

/** Bytes an entry holds, about: its body, and as much again for its parts when kept. */
function sizeOf(r: SerializedReply): number {
  return r.built ? 2 * r.body.length : r.body.length
}
