import type { JsonValue } from '@inferlog/schema'
import { InferlogError } from '../errors.js'
import type { Attributes, DecodedTraces, OtlpSpan, OtlpSpanEvent } from './otlp-span.js'

// Field names of each OTLP message as JSON carries them; proto3 JSON readers take the proto
// (snake_case) spelling too, so both are known.
const FIELDS = {
  request: ['resourceSpans'],
  resourceSpans: ['resource', 'scopeSpans', 'schemaUrl'],
  resource: ['attributes', 'droppedAttributesCount', 'entityRefs'],
  scopeSpans: ['scope', 'spans', 'schemaUrl'],
  scope: ['name', 'version', 'attributes', 'droppedAttributesCount'],
  span: [
    'traceId',
    'spanId',
    'traceState',
    'parentSpanId',
    'flags',
    'name',
    'kind',
    'startTimeUnixNano',
    'endTimeUnixNano',
    'attributes',
    'droppedAttributesCount',
    'events',
    'droppedEventsCount',
    'links',
    'droppedLinksCount',
    'status',
  ],
  event: ['timeUnixNano', 'name', 'attributes', 'droppedAttributesCount'],
  status: ['message', 'code'],
  keyValue: ['key', 'value', 'keyStrindex'],
  values: ['values'],
  anyValue: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue', 'stringValueStrindex'],
} as const

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
const KNOWN: Record<keyof typeof FIELDS, Set<string>> = Object.fromEntries(
  Object.entries(FIELDS).map(([k, names]) => [k, new Set(names.flatMap((n) => [n, snake(n)]))]),
) as never

const SPAN_KINDS = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
]
const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR']
/** Warnings kept per request; the rest are counted in one closing line. */
const MAX_WARNINGS = 20

type Obj = Record<string, unknown>

/** A part of the request that cannot be read; everything under it is refused. */
class Unreadable extends Error {}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}

function field(o: Obj, name: string): unknown {
  const v = o[name]
  return v !== undefined ? v : o[snake(name)]
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (v instanceof Uint8Array) return 'bytes'
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`
}

/** Reads spans from one OTLP export request, parsed from JSON or decoded from protobuf. */
class RequestReader {
  readonly out: DecodedTraces = { spans: [], problems: [], warnings: [] }
  private warned = 0

  warn(message: string): void {
    if (this.warned++ < MAX_WARNINGS) this.out.warnings.push(message)
  }

  finish(): DecodedTraces {
    if (this.warned > MAX_WARNINGS) this.out.warnings.push(`${this.warned - MAX_WARNINGS} more warnings not shown`)
    return this.out
  }

  checkFields(o: Obj, kind: keyof typeof FIELDS, path: string): void {
    const known = KNOWN[kind]
    for (const k in o) if (!known.has(k)) this.warn(`${path}: unknown field "${k}" ignored`)
  }

  obj(v: unknown, path: string, kind: keyof typeof FIELDS): Obj {
    if (v === undefined || v === null) return {}
    if (!isObj(v)) throw new Unreadable(`${path}: expected an object, got ${describe(v)}`)
    this.checkFields(v, kind, path)
    return v
  }

  list(v: unknown, path: string): unknown[] {
    if (v === undefined || v === null) return []
    if (!Array.isArray(v)) throw new Unreadable(`${path}: expected an array, got ${describe(v)}`)
    return v
  }

  str(v: unknown, path: string): string {
    if (v === undefined || v === null) return ''
    if (typeof v !== 'string') throw new Unreadable(`${path}: expected a string, got ${describe(v)}`)
    return v
  }

  /** An id of `bytes` length: hex text in OTLP/JSON, raw bytes from protobuf. Empty is ''. */
  id(v: unknown, path: string, bytes: number, required: boolean): string {
    let hex: string
    if (v === undefined || v === null || v === '') hex = ''
    else if (v instanceof Uint8Array) hex = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')
    else if (typeof v === 'string' && /^[0-9a-fA-F]*$/.test(v)) hex = v.toLowerCase()
    else throw new Unreadable(`${path}: expected ${bytes * 2} hex digits, got ${describe(v)}`)
    if (hex === '') {
      if (required) throw new Unreadable(`${path}: missing`)
      return ''
    }
    if (hex.length !== bytes * 2) throw new Unreadable(`${path}: expected ${bytes} bytes (${bytes * 2} hex digits), got ${hex.length / 2}`)
    if (/^0+$/.test(hex)) throw new Unreadable(`${path}: all zeros is not a valid id`)
    return hex
  }

  /** A fixed64 nanosecond time: a decimal string or a safe integer. */
  nanos(v: unknown, path: string): bigint {
    if (v === undefined || v === null || v === '') return 0n
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
    if (typeof v === 'string' && /^\d{1,20}$/.test(v)) {
      const n = BigInt(v)
      if (n < 2n ** 64n) return n
    }
    throw new Unreadable(`${path}: expected unsigned nanoseconds (a decimal string or integer), got ${describe(v)}`)
  }

  enumValue(v: unknown, path: string, names: string[]): number {
    if (v === undefined || v === null) return 0
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < names.length) return v
    if (typeof v === 'string' && names.includes(v)) return names.indexOf(v)
    throw new Unreadable(`${path}: expected one of 0..${names.length - 1}, got ${describe(v)}`)
  }

  attributes(v: unknown, path: string): Attributes {
    const out: Attributes = {}
    const list = this.list(v, path)
    for (let i = 0; i < list.length; i++) {
      const p = `${path}[${i}]`
      const kv = this.obj(list[i], p, 'keyValue')
      const key = this.str(field(kv, 'key'), `${p}.key`)
      if (key === '') {
        if (field(kv, 'keyStrindex') !== undefined) this.warn(`${p}: keyStrindex is for profiles only; attribute ignored`)
        else throw new Unreadable(`${p}.key: missing`)
        continue
      }
      out[key] = this.anyValue(field(kv, 'value'), `${p}.value`)
    }
    return out
  }

  /** An `AnyValue` as JSON: int64 beyond 2^53 stays a decimal string, bytes become base64. */
  anyValue(v: unknown, path: string): JsonValue {
    const o = this.obj(v, path, 'anyValue')
    let set: string | undefined
    for (const k in o) {
      if (o[k] === undefined || !KNOWN.anyValue.has(k)) continue
      if (set !== undefined) throw new Unreadable(`${path}: more than one value (${set}, ${k})`)
      set = k
    }
    if (set === undefined) return null
    const x = o[set]
    switch (set) {
      case 'stringValue':
      case 'string_value':
        return this.str(x, `${path}.stringValue`)
      case 'boolValue':
      case 'bool_value':
        if (typeof x !== 'boolean') throw new Unreadable(`${path}.boolValue: expected a boolean, got ${describe(x)}`)
        return x
      case 'intValue':
      case 'int_value': {
        if (typeof x === 'number' && Number.isSafeInteger(x)) return x
        if (typeof x === 'string' && /^-?\d{1,20}$/.test(x)) {
          const n = Number(x)
          return Number.isSafeInteger(n) ? n : x
        }
        throw new Unreadable(`${path}.intValue: expected an integer, got ${describe(x)}`)
      }
      case 'doubleValue':
      case 'double_value':
        if (typeof x === 'number') return Number.isFinite(x) ? x : null
        // proto3 JSON spells the non-finite doubles as strings; JSON has no place for them.
        if (x === 'NaN' || x === 'Infinity' || x === '-Infinity') return null
        if (typeof x === 'string' && x.trim() !== '' && Number.isFinite(Number(x))) return Number(x)
        throw new Unreadable(`${path}.doubleValue: expected a number, got ${describe(x)}`)
      case 'bytesValue':
      case 'bytes_value':
        if (x instanceof Uint8Array) return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64')
        if (typeof x === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(x)) return x
        throw new Unreadable(`${path}.bytesValue: expected base64, got ${describe(x)}`)
      case 'arrayValue':
      case 'array_value': {
        const a = this.obj(x, `${path}.arrayValue`, 'values')
        const values = this.list(field(a, 'values'), `${path}.arrayValue.values`)
        return values.map((e, i) => this.anyValue(e, `${path}.arrayValue.values[${i}]`))
      }
      case 'kvlistValue':
      case 'kvlist_value': {
        const a = this.obj(x, `${path}.kvlistValue`, 'values')
        return this.attributes(field(a, 'values'), `${path}.kvlistValue.values`)
      }
      default:
        this.warn(`${path}: stringValueStrindex is for profiles only; value read as empty`)
        return null
    }
  }

  span(v: unknown, path: string, resource: Attributes, scope: OtlpSpan['scope']): OtlpSpan {
    const s = this.obj(v, path, 'span')
    const traceId = this.id(field(s, 'traceId'), `${path}.traceId`, 16, true)
    const spanId = this.id(field(s, 'spanId'), `${path}.spanId`, 8, true)
    const parentSpanId = this.id(field(s, 'parentSpanId'), `${path}.parentSpanId`, 8, false)
    this.str(field(s, 'traceState'), `${path}.traceState`)
    const events: OtlpSpanEvent[] = this.list(field(s, 'events'), `${path}.events`).map((e, i) => {
      const p = `${path}.events[${i}]`
      const ev = this.obj(e, p, 'event')
      return {
        name: this.str(field(ev, 'name'), `${p}.name`),
        timeNs: this.nanos(field(ev, 'timeUnixNano'), `${p}.timeUnixNano`),
        attributes: this.attributes(field(ev, 'attributes'), `${p}.attributes`),
      }
    })
    this.list(field(s, 'links'), `${path}.links`)
    const st = this.obj(field(s, 'status'), `${path}.status`, 'status')
    const span: OtlpSpan = {
      path,
      traceId,
      spanId,
      name: this.str(field(s, 'name'), `${path}.name`),
      kind: this.enumValue(field(s, 'kind'), `${path}.kind`, SPAN_KINDS),
      startNs: this.nanos(field(s, 'startTimeUnixNano'), `${path}.startTimeUnixNano`),
      endNs: this.nanos(field(s, 'endTimeUnixNano'), `${path}.endTimeUnixNano`),
      attributes: this.attributes(field(s, 'attributes'), `${path}.attributes`),
      events,
      status: {
        code: this.enumValue(field(st, 'code'), `${path}.status.code`, STATUS_CODES),
        message: this.str(field(st, 'message'), `${path}.status.message`),
      },
      resource,
      scope,
    }
    if (parentSpanId !== '') span.parentSpanId = parentSpanId
    if (span.startNs === 0n) throw new Unreadable(`${path}.startTimeUnixNano: missing`)
    if (span.endNs !== 0n && span.endNs < span.startNs) throw new Unreadable(`${path}: ends before it starts`)
    return span
  }

  /** Counts the spans under a part that turned out unreadable, where they can be counted. */
  countSpans(scopeSpans: unknown): number {
    if (!Array.isArray(scopeSpans)) return 0
    let n = 0
    for (const ss of scopeSpans) if (isObj(ss) && Array.isArray(field(ss, 'spans'))) n += (field(ss, 'spans') as unknown[]).length
    return n
  }

  resourceSpans(v: unknown, path: string): void {
    let rs: Obj
    let resource: Attributes
    let scopeSpans: unknown[]
    try {
      rs = this.obj(v, path, 'resourceSpans')
      const r = this.obj(field(rs, 'resource'), `${path}.resource`, 'resource')
      resource = this.attributes(field(r, 'attributes'), `${path}.resource.attributes`)
      scopeSpans = this.list(field(rs, 'scopeSpans'), `${path}.scopeSpans`)
    } catch (e) {
      if (!(e instanceof Unreadable)) throw e
      const spans = isObj(v) ? this.countSpans(field(v, 'scopeSpans')) : 0
      this.out.problems.push({ path, message: e.message, spans })
      return
    }
    for (let j = 0; j < scopeSpans.length; j++) {
      const sp = `${path}.scopeSpans[${j}]`
      let spans: unknown[]
      let scope: OtlpSpan['scope']
      try {
        const ss = this.obj(scopeSpans[j], sp, 'scopeSpans')
        const sc = this.obj(field(ss, 'scope'), `${sp}.scope`, 'scope')
        scope = { name: this.str(field(sc, 'name'), `${sp}.scope.name`), version: this.str(field(sc, 'version'), `${sp}.scope.version`) }
        spans = this.list(field(ss, 'spans'), `${sp}.spans`)
      } catch (e) {
        if (!(e instanceof Unreadable)) throw e
        const raw = scopeSpans[j]
        const n = isObj(raw) && Array.isArray(field(raw, 'spans')) ? (field(raw, 'spans') as unknown[]).length : 0
        this.out.problems.push({ path: sp, message: e.message, spans: n })
        continue
      }
      for (let k = 0; k < spans.length; k++) {
        const p = `${sp}.spans[${k}]`
        try {
          this.out.spans.push(this.span(spans[k], p, resource, scope))
        } catch (e) {
          if (!(e instanceof Unreadable)) throw e
          this.out.problems.push({ path: p, message: e.message, spans: 1 })
        }
      }
    }
  }
}

/**
 * Reads an `ExportTraceServiceRequest`, given as parsed OTLP/JSON or as the object protobufjs
 * decodes (camelCase fields, 64-bit numbers as strings, bytes as `Uint8Array`), into spans. A
 * part that cannot be read refuses the spans under it (counted, with the reason); unknown fields
 * are ignored with a warning, as OTLP asks of receivers. Only a request that is not an object at
 * all, or whose `resourceSpans` is not a list, is refused whole (`bad_request`).
 */
export function readExportRequest(request: unknown): DecodedTraces {
  const r = new RequestReader()
  let list: unknown[]
  try {
    const o = r.obj(request, 'request', 'request')
    list = r.list(field(o, 'resourceSpans'), 'resourceSpans')
  } catch (e) {
    if (e instanceof Unreadable) throw new InferlogError('bad_request', `not an OTLP ExportTraceServiceRequest: ${e.message}`)
    throw e
  }
  for (let i = 0; i < list.length; i++) r.resourceSpans(list[i], `resourceSpans[${i}]`)
  return r.finish()
}
