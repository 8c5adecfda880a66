/** One parsed location: the page's name, its path parameters and the query string. */
export interface Route {
  page: PageName
  params: Record<string, string>
  query: URLSearchParams
  path: string
}

/** Every page, in the navigation's order. */
export const PAGES = [
  { name: 'overview', path: '/', title: 'Overview' },
  { name: 'explorer', path: '/events', title: 'Explorer' },
  { name: 'drift', path: '/drift', title: 'Drift' },
  { name: 'compare', path: '/compare', title: 'Compare' },
  { name: 'slices', path: '/slices', title: 'Slices' },
  { name: 'datasets', path: '/datasets', title: 'Datasets' },
  { name: 'review', path: '/review', title: 'Review' },
  { name: 'alerts', path: '/alerts', title: 'Alerts' },
  { name: 'keys', path: '/keys', title: 'Keys' },
] as const

export type PageName = (typeof PAGES)[number]['name'] | 'event' | 'dataset' | 'queue' | 'signin' | 'notfound'

const PATTERNS: [RegExp, PageName, string[]][] = [
  [/^\/$/, 'overview', []],
  [/^\/overview\/?$/, 'overview', []],
  [/^\/events\/?$/, 'explorer', []],
  [/^\/events\/([^/]+)\/?$/, 'event', ['id']],
  [/^\/drift\/?$/, 'drift', []],
  [/^\/compare\/?$/, 'compare', []],
  [/^\/slices\/?$/, 'slices', []],
  [/^\/datasets\/?$/, 'datasets', []],
  [/^\/datasets\/([^/]+)\/?$/, 'dataset', ['id']],
  [/^\/review\/?$/, 'review', []],
  [/^\/review\/([^/]+)\/?$/, 'queue', ['queue']],
  [/^\/alerts\/?$/, 'alerts', []],
  [/^\/keys\/?$/, 'keys', []],
  [/^\/signin\/?$/, 'signin', []],
]

/** Parses a path and query string into a {@link Route}; unknown paths are `notfound`. */
export function parseRoute(pathname: string, search: string): Route {
  const query = new URLSearchParams(search)
  for (const [re, page, names] of PATTERNS) {
    const m = re.exec(pathname)
    if (!m) continue
    const params: Record<string, string> = {}
    names.forEach((n, i) => {
      params[n] = safeDecode(m[i + 1] ?? '')
    })
    return { page, params, query, path: pathname }
  }
  return { page: 'notfound', params: {}, query, path: pathname }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** `path?query` with empty values dropped, keys in a stable order (shareable, comparable links). */
export function href(path: string, query?: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(query ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (v === undefined || v === null || v === '') continue
    q.set(k, String(v))
  }
  const s = q.toString()
  return s ? `${path}?${s}` : path
}

/** Path of an event's page. */
export const eventHref = (id: string) => `/events/${encodeURIComponent(id)}`

type Listener = () => void
const listeners = new Set<Listener>()

/** Goes to `url` inside the app (history entry), or replaces the current one. */
export function navigate(url: string, replace = false): void {
  if (replace) history.replaceState(null, '', url)
  else history.pushState(null, '', url)
  for (const l of listeners) l()
}

/** Calls `l` on every location change (links, back/forward); returns the unsubscribe. */
export function onLocationChange(l: Listener): () => void {
  listeners.add(l)
  const pop = () => l()
  window.addEventListener('popstate', pop)
  return () => {
    listeners.delete(l)
    window.removeEventListener('popstate', pop)
  }
}

/** Makes same-origin `<a href="/...">` clicks navigate inside the app (modifier clicks open tabs as usual). */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    const a = (e.target as Element | null)?.closest?.('a')
    if (!a || a.target || a.hasAttribute('download')) return
    const url = new URL(a.href, location.href)
    if (url.origin !== location.origin || url.pathname.startsWith('/v1/')) return
    e.preventDefault()
    navigate(url.pathname + url.search + url.hash)
  })
}
