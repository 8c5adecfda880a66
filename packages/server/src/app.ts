import { Hono, type Context } from 'hono'
import { createValidator } from '@inferlog/schema/validate'
import type { Scope } from './store/store.js'
import { createApiKey, parseScopes, checkProjectName } from './auth/api-keys.js'
import { Authenticator, type Principal } from './auth/authenticator.js'
import { DEFAULT_LIMITS, DEFAULT_WRITE_QUEUE, type LimitsConfig, type WriteQueueConfig } from './config.js'
import { InferlogError, isInferlogError } from './errors.js'
import { IngestService, type IngestKind } from './ingest/ingest-service.js'
import { isNdjson, parseJsonBody, parseNdjson } from './ingest/parse-items.js'
import { readBody } from './ingest/read-body.js'
import { WriteQueue } from './ingest/write-queue.js'
import { createMetrics, type ServerMetrics } from './metrics.js'
import { parseEventFilter, parseFeedbackFilter, parseLimit } from './query/parse-query.js'
import { ReadService } from './query/read-service.js'
import type { Store } from './store/store.js'

/** Where the server reports what it cannot answer with. */
export interface Logger {
  info(msg: string): void
  warn(msg: string): void
  error(msg: string, err?: unknown): void
}

/** A logger writing one line per message to stderr. */
export function stderrLogger(): Logger {
  const line = (level: string, msg: string) => process.stderr.write(`${new Date().toISOString()} ${level} ${msg}\n`)
  return {
    info: (m) => line('info', m),
    warn: (m) => line('warn', m),
    error: (m, e) => line('error', e instanceof Error ? `${m}: ${e.stack ?? e.message}` : m),
  }
}

/** Options of {@link createApp}. */
export interface AppOptions {
  /** A migrated store. The app does not own it: closing the app leaves the store open. */
  store: Store
  /** Default {@link DEFAULT_LIMITS}. */
  limits?: Partial<LimitsConfig>
  /** Default {@link DEFAULT_WRITE_QUEUE}. */
  writeQueue?: Partial<WriteQueueConfig>
  /**
   * Where accepted items go through the group commit. Default: the store. A scale-out collector
   * passes a queue publisher (`QueueWriter`); its `ping` joins the readiness check.
   */
  writer?: Pick<Store, 'writeBatch'> & { ping?(): Promise<void> }
  /** Epoch-ms clock. Default `Date.now`. */
  now?: () => number
  /** Default: a fresh registry with Node process metrics. */
  metrics?: ServerMetrics
  /** Default: lines on stderr. */
  logger?: Logger
}

/** The collector as an in-process object: a Hono app plus the services behind it. */
export interface InferlogApp {
  /** Handles a Fetch API request (for node-server, tests, or any runtime). */
  app: Hono
  ingest: IngestService
  reads: ReadService
  queue: WriteQueue
  auth: Authenticator
  metrics: ServerMetrics
  /** Stops taking writes and waits for queued ones to commit. Idempotent. */
  close(): Promise<void>
}

type Vars = { Variables: { principal: Principal } }

function errorBody(code: string, message: string) {
  return { error: { code, message } }
}

/**
 * Builds the collector: routes, auth, ingest pipeline with group commit, reads and metrics.
 * Every error leaves through one place (`onError`) as `{error: {code, message}}`.
 */
export function createApp(o: AppOptions): InferlogApp {
  const limits: LimitsConfig = { ...DEFAULT_LIMITS, ...o.limits }
  const wq: WriteQueueConfig = { ...DEFAULT_WRITE_QUEUE, ...o.writeQueue }
  const metrics = o.metrics ?? createMetrics()
  const logger = o.logger ?? stderrLogger()
  const queue = new WriteQueue(o.writer ?? o.store, wq, metrics)
  const validator = createValidator({ maxDepth: limits.maxDepth })
  const ingest = new IngestService({ queue, validator, limits, metrics, ...(o.now ? { now: o.now } : {}) })
  const reads = new ReadService(o.store)
  const auth = new Authenticator(o.store, o.now ? { now: o.now } : {})
  const app = new Hono<Vars>()

  const guard = (scope: Scope) => async (c: Context<Vars>, next: () => Promise<void>) => {
    const principal = await auth.authenticate(
      { authorization: c.req.header('authorization'), apiKey: c.req.header('x-api-key'), project: c.req.header('x-inferlog-project') },
      scope,
    )
    c.set('principal', principal)
    await next()
  }

  app.use('*', async (c, next) => {
    await next()
    metrics.httpRequests.inc({ route: c.req.routePath ?? 'unmatched', status: String(c.res.status) })
  })

  app.onError((err, c) => {
    if (isInferlogError(err)) {
      if (err.retryAfter !== undefined) c.header('Retry-After', String(err.retryAfter))
      if (err.status >= 500 && err.code !== 'overloaded') logger.error(`${c.req.method} ${c.req.path}: ${err.message}`, err.cause)
      return c.json(errorBody(err.code, err.message), err.status as 400)
    }
    logger.error(`${c.req.method} ${c.req.path}: unexpected error`, err)
    return c.json(errorBody('internal', 'internal error; see the server log'), 500)
  })
  app.notFound((c) => c.json(errorBody('not_found', `no route ${c.req.method} ${c.req.path}`), 404))

  const ingestRoute = (kind: IngestKind) => async (c: Context<Vars>) => {
    const body = await readBody(c.req.raw.body, {
      maxBytes: limits.maxBodyBytes,
      contentLength: c.req.header('content-length'),
      contentEncoding: c.req.header('content-encoding'),
    })
    const items = isNdjson(c.req.header('content-type')) ? parseNdjson(body, limits.maxEventBytes) : parseJsonBody(body)
    const reply = await ingest.ingest(kind, c.get('principal').project, items)
    return c.json(reply, reply.rejected.length === 0 ? 200 : 207)
  }

  app.post('/v1/events', guard('ingest'), ingestRoute('event'))
  app.post('/v1/feedback', guard('ingest'), ingestRoute('feedback'))

  app.get('/v1/events/:id', guard('read'), async (c) => c.json(await reads.event(c.get('principal').project, c.req.param('id') ?? '')))
  app.get('/v1/events', guard('read'), async (c) => {
    const q = c.req.query()
    const filter = parseEventFilter(q)
    return c.json(await reads.events(c.get('principal').project, filter, parseLimit(q.limit), q.cursor))
  })
  app.get('/v1/feedback', guard('read'), async (c) => {
    const q = c.req.query()
    const filter = parseFeedbackFilter(q)
    return c.json(await reads.feedback(c.get('principal').project, filter, parseLimit(q.limit), q.cursor))
  })

  app.post('/v1/keys', guard('admin'), async (c) => {
    let body: { project?: unknown; scopes?: unknown; name?: unknown }
    try {
      body = (await c.req.json()) as typeof body
    } catch {
      throw new InferlogError('invalid_json', 'body must be JSON {project?, scopes, name?}')
    }
    const principal = c.get('principal')
    const project = typeof body.project === 'string' ? checkProjectName(body.project) : principal.project
    if (principal.keyId !== null && project !== principal.project) {
      throw new InferlogError('forbidden', 'an admin key can only create keys for its own project')
    }
    if (typeof body.scopes !== 'string' && !Array.isArray(body.scopes))
      throw new InferlogError('invalid_parameter', 'scopes must be a list such as ["ingest","read"]')
    const created = await createApiKey(o.store, {
      project,
      scopes: parseScopes(body.scopes as string | string[]),
      ...(typeof body.name === 'string' ? { name: body.name } : {}),
    })
    auth.invalidate()
    const { hash: _hash, ...record } = created.record
    return c.json({ key: created.key, ...record }, 201)
  })
  app.get('/v1/keys', guard('admin'), async (c) => {
    const p = c.get('principal')
    const keys = await o.store.listApiKeys(p.keyId === null ? undefined : p.project)
    return c.json({ items: keys.map(({ hash: _h, ...k }) => k) })
  })

  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', async (c) => {
    try {
      await o.store.ping()
    } catch (e) {
      return c.json({ status: 'unavailable', reason: `store: ${(e as Error).message}` }, 503)
    }
    try {
      await o.writer?.ping?.()
    } catch (e) {
      return c.json({ status: 'unavailable', reason: `queue: ${(e as Error).message}` }, 503)
    }
    return c.json({ status: 'ready', store: o.store.kind, write_queue_depth: queue.depth })
  })
  app.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType)
    return c.body(await metrics.registry.metrics())
  })

  let closing: Promise<void> | undefined
  return {
    app: app as unknown as Hono,
    ingest,
    reads,
    queue,
    auth,
    metrics,
    close: () => (closing ??= queue.close()),
  }
}
