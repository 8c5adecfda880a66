import { html } from 'htm/preact'
import { fromInputTime, toInputTime } from '../format.js'

/** `from`/`to` inputs of a window, named `${prefix}_from` / `${prefix}_to` (UTC values in the URL). */
export function WindowFields({
  prefix,
  label,
  from,
  to,
}: {
  prefix: string
  label: string
  from: string | undefined
  to: string | undefined
}) {
  return html`<fieldset class="window-fields"><legend>${label}</legend>
    <div class="field"><label for=${`${prefix}-from`}>From</label><input id=${`${prefix}-from`} name=${`${prefix}_from`} type="datetime-local" value=${toInputTime(from)} /></div>
    <div class="field"><label for=${`${prefix}-to`}>To</label><input id=${`${prefix}-to`} name=${`${prefix}_to`} type="datetime-local" value=${toInputTime(to)} /></div>
  </fieldset>`
}

/** Reads a form's fields into URL parameters: datetime-local values become RFC 3339 UTC, empty ones are dropped. */
export function formQuery(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of new FormData(form)) {
    const el = form.elements.namedItem(k)
    let s = String(v).trim()
    if (el instanceof HTMLInputElement && el.type === 'datetime-local') s = fromInputTime(s)
    if (s) out[k] = out[k] ? `${out[k]},${s}` : s
  }
  return out
}

/** Default windows: the last `hours` as current, the `hours` before it as reference. */
export function defaultWindows(hours = 12, now = Date.now()) {
  const iso = (ms: number) => new Date(Math.floor(ms / 60_000) * 60_000).toISOString()
  return {
    ref_from: iso(now - 2 * hours * 3_600_000),
    ref_to: iso(now - hours * 3_600_000),
    cur_from: iso(now - hours * 3_600_000),
    cur_to: iso(now + 60_000),
  }
}
