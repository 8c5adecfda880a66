import type { Principal } from '../auth/authenticator.js'

/** Hono environment of the collector: what middleware hands to routes. */
export type AppEnv = { Variables: { principal: Principal } }

/** The `{error: {code, message}}` body every error reply carries. */
export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } }
}
