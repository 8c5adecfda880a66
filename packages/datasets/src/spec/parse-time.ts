const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

/** Epoch ms of an RFC 3339 date-time, a full-date (UTC midnight) or epoch ms; `undefined` when unreadable. */
export function parseTime(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined
  if (FULL_DATE.test(value)) {
    const ms = Date.parse(`${value}T00:00:00Z`)
    return Number.isNaN(ms) ? undefined : ms
  }
  if (!DATE_TIME.test(value)) return undefined
  const ms = Date.parse(value.replace(' ', 'T').replace('t', 'T').replace('z', 'Z'))
  return Number.isNaN(ms) ? undefined : ms
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** Milliseconds of a window such as `7d`, `12h`, `30m`, `45s`, `2w`, `500ms`, or a number of ms. */
export function parseWindow(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined
  const m = /^([0-9]+)(ms|s|m|h|d|w)$/.exec(value)
  if (!m) return undefined
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!
  return Number.isSafeInteger(ms) ? ms : undefined
}
