import type { MiddlewareHandler } from 'hono'
import type { Authenticator } from '../auth/authenticator.js'
import type { Scope } from '../store/store.js'
import type { AppEnv } from './app-env.js'

/** Middleware that authenticates the request for `scope` and hands the principal to the route. */
export function requireScope(auth: Authenticator, scope: Scope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = await auth.authenticate(
      { authorization: c.req.header('authorization'), apiKey: c.req.header('x-api-key'), project: c.req.header('x-inferlog-project') },
      scope,
    )
    c.set('principal', principal)
    await next()
  }
}
