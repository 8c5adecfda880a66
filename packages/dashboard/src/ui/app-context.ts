import { createContext } from 'preact'
import { useContext } from 'preact/hooks'
import type { ApiClient } from '../api/api-client.js'
import type { SessionInfo } from '../api/types.js'
import type { Route } from '../router.js'

/** What every page gets: the API client, who is signed in, the current route, and a toast. */
export interface AppContextValue {
  api: ApiClient
  session: SessionInfo
  route: Route
  /** Shows a short message at the bottom of the page (kind `error` stays until dismissed). */
  toast: (message: string, kind?: 'ok' | 'error') => void
  /** Re-reads the session (after sign-in, sign-out or a project switch). */
  refreshSession: () => void
}

export const AppContext = createContext<AppContextValue | null>(null)

/** The app's context; pages are only ever rendered inside it. */
export function useApp(): AppContextValue {
  const v = useContext(AppContext)
  if (!v) throw new Error('useApp outside the app')
  return v
}

/** Whether the signed-in principal holds `scope` (`admin` implies the others). */
export function can(session: SessionInfo, scope: 'ingest' | 'read' | 'admin'): boolean {
  return session.scopes.includes(scope) || session.scopes.includes('admin')
}
