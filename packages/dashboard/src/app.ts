import { html } from 'htm/preact'
import type { ComponentType } from 'preact'
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks'
import { type ApiClient, ApiError } from './api/api-client.js'
import type { SessionInfo } from './api/types.js'
import { PAGES, type PageName, parseRoute, type Route, navigate, onLocationChange } from './router.js'
import { AppContext, type AppContextValue } from './ui/app-context.js'
import { ErrorBox, Loading } from './ui/components.js'
import { SignInPage } from './pages/signin-page.js'

type PageModule = { default: ComponentType }

/** Each page is its own chunk: the first page loads only what it shows. */
const LOADERS: Record<Exclude<PageName, 'signin'>, () => Promise<PageModule>> = {
  overview: () => import('./pages/overview-page.js'),
  explorer: () => import('./pages/explorer-page.js'),
  event: () => import('./pages/event-page.js'),
  drift: () => import('./pages/drift-page.js'),
  compare: () => import('./pages/compare-page.js'),
  slices: () => import('./pages/slices-page.js'),
  datasets: () => import('./pages/datasets-page.js'),
  dataset: () => import('./pages/datasets-page.js'),
  review: () => import('./pages/review-page.js'),
  queue: () => import('./pages/review-page.js'),
  alerts: () => import('./pages/alerts-page.js'),
  keys: () => import('./pages/keys-page.js'),
  notfound: () => import('./pages/not-found-page.js'),
}

const current = (): Route => parseRoute(location.pathname, location.search)

/** Which navigation entry a page belongs to. */
const SECTION: Partial<Record<PageName, PageName>> = { event: 'explorer', dataset: 'datasets', queue: 'review' }

function Toasts({ items, dismiss }: { items: { id: number; message: string; kind: string }[]; dismiss: (id: number) => void }) {
  return html`<div class="toasts" role="status" aria-live="polite">
    ${items.map(
      (t) => html`<div class=${`toast ${t.kind}`} key=${t.id}>
        <span>${t.message}</span><button type="button" class="link" aria-label="Dismiss" onClick=${() => dismiss(t.id)}>×</button>
      </div>`,
    )}
  </div>`
}

function Nav({ route, session, onSignOut }: { route: Route; session: SessionInfo; onSignOut: () => void }) {
  const [open, setOpen] = useState(false)
  const active = SECTION[route.page] ?? route.page
  return html`<header class="topbar">
    <a class="brand" href="/">inferlog</a>
    <button type="button" class="menu-toggle" aria-expanded=${open} aria-controls="nav" onClick=${() => setOpen(!open)}>Menu</button>
    <nav id="nav" class=${open ? 'open' : ''} aria-label="Pages" onClick=${() => setOpen(false)}>
      ${PAGES.map(
        (p) =>
          html`<a href=${p.path} aria-current=${active === p.name ? 'page' : undefined} class=${active === p.name ? 'active' : ''}>${p.title}</a>`,
      )}
    </nav>
    <div class="who" title=${`scopes: ${session.scopes.join(', ')}`}>
      <span class="project" data-testid="project">${session.project}</span>
      ${
        session.via === 'session'
          ? html`<button type="button" class="link" onClick=${onSignOut}>Sign out</button>`
          : session.via === 'open'
            ? html`<a href="/signin" class="muted">open mode · sign in</a>`
            : null
      }
    </div>
  </header>`
}

function PageHost({ route }: { route: Route }) {
  const page = route.page === 'signin' ? 'notfound' : route.page
  const [mod, setMod] = useState<{ page: PageName; C: ComponentType } | { page: PageName; error: Error } | undefined>()
  useEffect(() => {
    let live = true
    LOADERS[page]().then(
      (m) => live && setMod({ page, C: m.default }),
      (e: Error) => live && setMod({ page, error: e }),
    )
    return () => {
      live = false
    }
  }, [page])
  if (!mod || mod.page !== page) return html`<${Loading} what="Loading the page" />`
  if ('error' in mod)
    return html`<${ErrorBox} error=${new ApiError(0, 'network', `the page's code did not load (${mod.error.message})`)} onRetry=${() => location.reload()} />`
  return html`<${mod.C} />`
}

/** The dashboard: who is signed in, the navigation, and the current page. */
export function App({ api }: { api: ApiClient }) {
  const [route, setRoute] = useState(current)
  const [session, setSession] = useState<SessionInfo | 'signin' | ApiError | undefined>()
  const [toasts, setToasts] = useState<{ id: number; message: string; kind: string }[]>([])
  const [sessionTick, setSessionTick] = useState(0)

  useEffect(() => onLocationChange(() => setRoute(current())), [])
  useEffect(() => {
    const ctl = new AbortController()
    api.get<SessionInfo>('/v1/session', undefined, ctl.signal).then(
      (s) => {
        api.csrf = s.csrf
        setSession(s)
      },
      (e: unknown) => {
        if (ctl.signal.aborted) return
        setSession(e instanceof ApiError && (e.status === 401 || e.status === 403) ? 'signin' : (e as ApiError))
      },
    )
    return () => ctl.abort()
  }, [api, sessionTick])

  const toast = useCallback((message: string, kind: 'ok' | 'error' = 'ok') => {
    const id = Date.now() + Math.random()
    setToasts((t) => [...t.slice(-3), { id, message, kind }])
    if (kind === 'ok') setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 4000)
  }, [])
  const refreshSession = useCallback(() => setSessionTick((t) => t + 1), [])
  const signOut = useCallback(async () => {
    try {
      await api.del('/v1/session')
    } catch {
      // Already gone: the page forgets it either way.
    }
    api.csrf = undefined
    navigate('/signin')
    refreshSession()
  }, [api, refreshSession])

  const value = useMemo<AppContextValue | undefined>(
    () =>
      session && typeof session === 'object' && !(session instanceof ApiError) ? { api, session, route, toast, refreshSession } : undefined,
    [api, session, route, toast, refreshSession],
  )

  const toastsEl = html`<${Toasts} items=${toasts} dismiss=${(id: number) => setToasts((t) => t.filter((x) => x.id !== id))} />`
  if (session === undefined) return html`<main class="page"><${Loading} what="Connecting" /></main>`
  if (session instanceof ApiError) return html`<main class="page"><${ErrorBox} error=${session} onRetry=${refreshSession} /></main>`
  if (session === 'signin' || (route.page === 'signin' && value)) {
    return html`<main class="page narrow">
      <${SignInPage} api=${api} open=${value?.session.open ?? false} onSignedIn=${() => {
        navigate('/', true)
        refreshSession()
      }} />
    </main>${toastsEl}`
  }
  return html`<${AppContext.Provider} value=${value}>
    <a class="skip" href="#main">Skip to content</a>
    <${Nav} route=${route} session=${value!.session} onSignOut=${signOut} />
    <main class="page" id="main" tabindex="-1"><${PageHost} route=${route} /></main>
    ${toastsEl}
  </${AppContext.Provider}>`
}
