import type { Hono } from 'hono'
import { isInferlogError } from '../errors.js'
import { type Logger, RateLimitedNote } from '../logging/logger.js'
import type { ServerMetrics } from '../metrics.js'
import { type AppEnv, errorBody } from './app-env.js'

/** Status recorded (and, where it can still be sent, answered) when the client went away mid-request. */
export const CLIENT_CLOSED_STATUS = 499

/**
 * The one place errors become replies: an {@link InferlogError} keeps its code and status, anything
 * else is a 500 `internal` whose stack goes to the log. A client that went away is counted as
 * 499 and noted at most once a minute (with how many were held back), without a stack; other
 * client mistakes (4xx) are not logged at all.
 */
export function installErrorHandling(app: Hono<AppEnv>, o: { logger: Logger; metrics: ServerMetrics; now?: () => number }): void {
  const aborts = new RateLimitedNote(60_000, o.now)
  app.use('*', async (c, next) => {
    await next()
    o.metrics.httpRequests.inc({ route: c.req.routePath ?? 'unmatched', status: String(c.res.status) })
  })
  app.onError((err, c) => {
    if (isInferlogError(err)) {
      if (err.code === 'client_closed') {
        aborts.note((held) =>
          o.logger.info('client closed the connection mid-request', {
            route: c.req.routePath,
            ...(held > 0 ? { similar_since_last_note: held } : {}),
          }),
        )
        return c.json(errorBody(err.code, err.message), CLIENT_CLOSED_STATUS as 400)
      }
      if (err.retryAfter !== undefined) c.header('Retry-After', String(err.retryAfter))
      if (err.status >= 500 && err.code !== 'overloaded') o.logger.error(`${c.req.method} ${c.req.path}: ${err.message}`, err.cause)
      return c.json(errorBody(err.code, err.message, err.details), err.status as 400)
    }
    o.logger.error(`${c.req.method} ${c.req.path}: unexpected error`, err)
    return c.json(errorBody('internal', 'internal error; see the server log'), 500)
  })
  app.notFound((c) => c.json(errorBody('not_found', `no route ${c.req.method} ${c.req.path}`), 404))
}
