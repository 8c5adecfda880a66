/** Built-in detectors of personal data in strings. */
export type DetectorKind = 'email' | 'phone' | 'card'

/** The detectors, in the order they run. */
export const DETECTOR_KINDS: readonly DetectorKind[] = ['email', 'phone', 'card']

/** Redaction rules: what the SDK applies before anything leaves the process, and a collector again at ingest. */
export interface RedactOptions {
  /**
   * Field paths to drop, dot-separated from the record root, `*` matching any key or array index:
   * `input.ssn`, `input.messages.*.name`, `context.entities.email`. Applies to events and feedback.
   * Default none.
   */
  paths?: string[]
  /**
   * Detectors run over every string of the payload fields (`input`, `output`, `candidates`,
   * non-tensor `internals`, `context`, `error`, and feedback `value`, `comment`, `metadata`);
   * a match is replaced by `[REDACTED:kind]`. Default all three.
   */
  detectors?: DetectorKind[]
}

/**
 * Redaction of records: in the SDK before they leave the process, in the collector again before
 * they are stored. Copy-on-write: the caller's objects are never modified; only the branches that
 * change are copied.
 */
export interface Redactor {
  /** Returns the record with paths dropped and detected values replaced (the same object if nothing changed). */
  apply(record: Record<string, unknown>, kind: 'event' | 'feedback'): Record<string, unknown>
}

// An email is `LOCAL@DOMAIN` with LOCAL of [A-Za-z0-9._%+-] and DOMAIN matching this (sticky) pattern.
const EMAIL_DOMAIN = /[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/y
const LOCAL_CHAR = /[A-Za-z0-9._%+-]/

/**
 * Replaces the matches of `/[A-Za-z0-9._%+-]+@DOMAIN/g` (leftmost, as a global regex finds them)
 * in linear time: a regex scan retries from every character of a long run of word characters that
 * holds no `@` (quadratic: 0.5 ms for a 300-character run); here each `@` is the anchor, its local
 * part is the run of local characters before it (since the previous match), and the domain is
 * matched from just after it.
 */
function replaceEmails(s: string): string {
  let out = ''
  let done = 0
  let at = s.indexOf('@')
  while (at >= 0) {
    let start = at
    while (start > done && LOCAL_CHAR.test(s[start - 1]!)) start--
    EMAIL_DOMAIN.lastIndex = at + 1
    const domain = start < at ? EMAIL_DOMAIN.exec(s) : null
    if (domain) {
      out += `${s.slice(done, start)}[REDACTED:email]`
      done = at + 1 + domain[0].length
      at = s.indexOf('@', done)
    } else {
      at = s.indexOf('@', at + 1)
    }
  }
  return done === 0 ? s : out + s.slice(done)
}
// 13–19 digits with single spaces or dashes between them; confirmed by the Luhn checksum.
const CARD = /(?<![\d.])\d(?:[ -]?\d){12,18}(?![\d])/g
// International or national phone numbers; confirmed by digit count (see isPhone).
const PHONE = /(?<![\w+.])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,5}){1,5}(?![\w])/g
const TWO_DIGITS = /\d\d/

/** Luhn checksum of the digits in a string. */
export function luhnValid(s: string): boolean {
  let sum = 0
  let double = false
  let n = 0
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i) - 48
    if (c < 0 || c > 9) continue
    n++
    let d = c
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return n >= 13 && n <= 19 && sum % 10 === 0
}

function isPhone(m: string): boolean {
  let digits = 0
  for (let i = 0; i < m.length; i++) {
    const c = m.charCodeAt(i)
    if (c >= 48 && c <= 57) digits++
  }
  // Dates (2026-11-26), decimals, IPv4 addresses and short codes stay; 9–15 digits is the E.164 range for national numbers.
  if (/^\d{4}-\d\d-\d\d/.test(m) || /^\d+\.\d+$/.test(m) || /^\d{1,3}(\.\d{1,3}){3}$/.test(m)) return false
  return digits <= 15 && (digits >= 9 || (m.startsWith('+') && digits >= 8))
}

/**
 * Replaces emails, card numbers and phone numbers in one string by `[REDACTED:kind]`.
 * @returns the same string when nothing matched.
 */
export function redactString(s: string, kinds: ReadonlySet<DetectorKind>): string {
  if (s.length < 6) return s
  let r = s
  if (kinds.has('email') && r.includes('@')) r = replaceEmails(r)
  if (TWO_DIGITS.test(r)) {
    if (kinds.has('card')) r = r.replace(CARD, (m) => (luhnValid(m) ? '[REDACTED:card]' : m))
    if (kinds.has('phone')) r = r.replace(PHONE, (m) => (isPhone(m) ? '[REDACTED:phone]' : m))
  }
  return r
}

const MAX_DEPTH = 64

function isTensorLike(v: object): boolean {
  return 'dtype' in v && 'data' in v
}

function scrub(v: unknown, kinds: ReadonlySet<DetectorKind>, depth: number): unknown {
  if (typeof v === 'string') return redactString(v, kinds)
  if (typeof v !== 'object' || v === null || depth > MAX_DEPTH || ArrayBuffer.isView(v)) return v
  if (Array.isArray(v)) {
    let out: unknown[] | undefined
    for (let i = 0; i < v.length; i++) {
      const nv = scrub(v[i], kinds, depth + 1)
      if (nv !== v[i]) (out ??= v.slice())[i] = nv
    }
    return out ?? v
  }
  if (isTensorLike(v)) return v
  let out: Record<string, unknown> | undefined
  const o = v as Record<string, unknown>
  for (const k of Object.keys(o)) {
    const nv = scrub(o[k], kinds, depth + 1)
    if (nv !== o[k]) (out ??= { ...o })[k] = nv
  }
  return out ?? v
}

function dropAt(node: unknown, segs: readonly string[], i: number): unknown {
  if (typeof node !== 'object' || node === null || ArrayBuffer.isView(node)) return node
  const seg = segs[i]!
  const last = i === segs.length - 1
  if (Array.isArray(node)) {
    let out: unknown[] | undefined
    const from = seg === '*' ? 0 : /^\d+$/.test(seg) ? Number(seg) : node.length
    const to = seg === '*' ? node.length : Math.min(from + 1, node.length)
    for (let k = from; k < to; k++) {
      // An array element cannot be removed without shifting its neighbours: it becomes null.
      const nv = last ? null : dropAt(node[k], segs, i + 1)
      if (nv !== node[k]) (out ??= node.slice())[k] = nv
    }
    return out ?? node
  }
  const o = node as Record<string, unknown>
  const keys = seg === '*' ? Object.keys(o) : Object.hasOwn(o, seg) ? [seg] : []
  let out: Record<string, unknown> | undefined
  for (const k of keys) {
    if (last) {
      out ??= { ...o }
      delete out[k]
    } else {
      const nv = dropAt(o[k], segs, i + 1)
      if (nv !== o[k]) (out ??= { ...o })[k] = nv
    }
  }
  return out ?? node
}

// Fields holding identifiers, times and numbers: never scanned (a UUID or a tensor's base64 can look like a number).
const SCANNED: Record<'event' | 'feedback', readonly string[]> = {
  event: ['input', 'output', 'candidates', 'internals', 'context', 'error'],
  feedback: ['value', 'comment', 'metadata'],
}

/** Normalizes the `redact` option; undefined when redaction is off. */
export function createRedactor(option: boolean | string[] | RedactOptions | undefined): Redactor | undefined {
  if (option === undefined || option === false) return undefined
  const o: RedactOptions = option === true ? {} : Array.isArray(option) ? { paths: option } : option
  const paths = (o.paths ?? []).map((p) => p.split('.').filter((s) => s !== ''))
  const kinds = new Set<DetectorKind>(o.detectors ?? ['email', 'phone', 'card'])
  if (paths.length === 0 && kinds.size === 0) return undefined
  return {
    apply(record, kind) {
      let r = record
      for (const segs of paths) {
        if (segs.length > 0) r = dropAt(r, segs, 0) as Record<string, unknown>
      }
      if (kinds.size > 0) {
        for (const k of SCANNED[kind]) {
          const v = r[k]
          if (v === undefined) continue
          const nv = scrub(v, kinds, 1)
          if (nv !== v) {
            if (r === record) r = { ...record }
            r[k] = nv
          }
        }
      }
      return r
    },
  }
}
