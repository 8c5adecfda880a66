/** Formatting shared by every page: short, locale-independent, never throwing on odd input. */

/** `2026-11-26 18:59:15` in UTC, or the raw text when it is not a time. */
export function fmtTime(ts: string | number | undefined | null): string {
  if (ts === undefined || ts === null || ts === '') return '–'
  const d = new Date(ts)
  if (Number.isNaN(d.getTime())) return String(ts)
  return d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '')
    .replace('Z', '')
}

/** `3 s ago`, `5 min ago`, `2 h ago`, `4 d ago` (or `in …` for the future). */
export function fmtAgo(ts: string | number, now = Date.now()): string {
  const t = new Date(ts).getTime()
  if (Number.isNaN(t)) return ''
  const s = Math.round((now - t) / 1000)
  const a = Math.abs(s)
  const v =
    a < 60 ? `${a} s` : a < 3600 ? `${Math.round(a / 60)} min` : a < 86400 ? `${Math.round(a / 3600)} h` : `${Math.round(a / 86400)} d`
  return s >= 0 ? `${v} ago` : `in ${v}`
}

/** A number with at most `digits` significant digits, thousands grouped; `–` for null. */
export function fmtNum(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–'
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞'
  const a = Math.abs(v)
  if (a !== 0 && (a < 1e-3 || a >= 1e12)) return v.toExponential(Math.max(0, digits - 1))
  if (Number.isInteger(v)) return v.toLocaleString('en-US')
  return Number(v.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 6 })
}

/** `12.5%` from a 0..1 share. */
export function fmtPct(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–'
  return `${(v * 100).toFixed(digits)}%`
}

/** `850 ms`, `1.2 s`. */
export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–'
  return v >= 1000 ? `${(v / 1000).toPrecision(3)} s` : `${fmtNum(v, 3)} ms`
}

/** A duration: `850 ms`, `4.2 s`, `12 min`, `3.1 h`, `2.0 d`. */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '–'
  const a = Math.abs(ms)
  if (a < 1000) return `${fmtNum(ms, 3)} ms`
  if (a < 60_000) return `${(ms / 1000).toFixed(1)} s`
  if (a < 3_600_000) return `${(ms / 60_000).toFixed(a < 600_000 ? 1 : 0)} min`
  if (a < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`
  return `${(ms / 86_400_000).toFixed(1)} d`
}

/** `$0.0123`. */
export function fmtUsd(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–'
  return v === 0 ? '$0' : v < 0.01 ? `$${v.toPrecision(2)}` : `$${v.toFixed(2)}`
}

/** `1.4 MB`. */
export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

/**
 * A one-line preview of any JSON value, at most `max` characters. Walks the value lazily so a
 * megabyte-sized input costs what the preview shows, not what the value holds.
 */
export function preview(v: unknown, max = 120): string {
  let out = ''
  const push = (s: string) => {
    out += s
    return out.length < max
  }
  const walk = (x: unknown, depth: number): boolean => {
    if (x === null || typeof x !== 'object') {
      const s = typeof x === 'string' ? JSON.stringify(x.length > max ? `${x.slice(0, max)}` : x) : String(x)
      return push(s)
    }
    if (depth > 3) return push(Array.isArray(x) ? '[…]' : '{…}')
    if (Array.isArray(x)) {
      if (!push('[')) return false
      for (let i = 0; i < x.length; i++) {
        if (i > 0 && !push(', ')) return false
        if (!walk(x[i], depth + 1)) return false
      }
      return push(']')
    }
    if (!push('{')) return false
    let first = true
    for (const k in x as Record<string, unknown>) {
      if (!first && !push(', ')) return false
      first = false
      if (!push(`${k}: `)) return false
      if (!walk((x as Record<string, unknown>)[k], depth + 1)) return false
    }
    return push('}')
  }
  walk(v, 0)
  return out.length > max ? `${out.slice(0, max - 1)}…` : out
}

/** Local `datetime-local` input value (minutes) ↔ RFC 3339 UTC. */
export function toInputTime(iso: string | undefined | null): string {
  if (!iso) return ''
  const d = new Date(/^\d+$/.test(iso) ? Number(iso) : iso)
  if (Number.isNaN(d.getTime())) return ''
  const off = d.getTimezoneOffset() * 60_000
  return new Date(d.getTime() - off).toISOString().slice(0, 16)
}

export function fromInputTime(v: string): string {
  if (!v) return ''
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? '' : d.toISOString()
}
