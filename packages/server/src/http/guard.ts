import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import type { AuthHeaders, Authenticator } from '../auth/authenticator.js'
import type { Scope } from '../store/store.js'
import type { AppEnv } from './app-env.js'

/** Name of the browser session cookie (`POST /v1/session`). */
export const SESSION_COOKIE = 'inferlog_session'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** What auth reads from a request: key headers, the session cookie and CSRF token, and where a browser says it comes from. */
export function authHeaders(c: Context): AuthHeaders {
  return {
    authorization: c.req.header('authorization'),
    apiKey: c.req.header('x-api-key'),
    project: c.req.header('x-inferlog-project'),
    session: getCookie(c, SESSION_COOKIE),
    csrf: c.req.header('x-inferlog-csrf'),
    unsafe: !SAFE_METHODS.has(c.req.method),
    origin: c.req.header('origin'),
    fetchSite: c.req.header('sec-fetch-site'),
    host: c.req.header('host') ?? new URL(c.req.url).host,
  }
}

/** Middleware that authenticates the request for `scope` and hands the principal to the route. */
export function requireScope(auth: Authenticator, scope: Scope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('principal', await auth.authenticate(authHeaders(c), scope))
    await next()
  }
}
