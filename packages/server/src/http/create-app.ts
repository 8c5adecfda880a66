import { createValidator } from '@inferlog/schema/validate'
import { Hono } from 'hono'
import { Authenticator } from '../auth/authenticator.js'
import {
  type AuthConfig,
  DEFAULT_AUTH,
  DEFAULT_HTTP,
  DEFAULT_LIMITS,
  DEFAULT_WRITE_QUEUE,
  type LimitsConfig,
  type PrivacyConfig,
  type WriteQueueConfig,
} from '../config.js'
import { DatasetBuilds, type DatasetBuildsOptions } from '../datasets/dataset-builds.js'
import { DatasetTriggers, type DatasetTriggersOptions } from '../datasets/dataset-triggers.js'
import { ReviewQueues } from '../datasets/review-queues.js'
import { IngestService } from '../ingest/ingest-service.js'
import { WriteQueue } from '../ingest/write-queue.js'
import { createLogger, type Logger } from '../logging/logger.js'
import { createMetrics, type ServerMetrics } from '../metrics.js'
import { Alerts, type AlertsOptions } from '../monitoring/alerts.js'
import { Comparisons } from '../monitoring/comparisons.js'
import { DriftService } from '../monitoring/drift-service.js'
import { EstimationService } from '../monitoring/estimation-service.js'
import { LiveStream } from '../monitoring/live-stream.js'
import { MetricsEstimates } from '../monitoring/metrics-estimates.js'
import { MetricsReader } from '../monitoring/metrics-query.js'
import { ModelConfigs } from '../monitoring/model-config.js'
import { PriceTables } from '../monitoring/price-tables.js'
import { ErasedGuard } from '../privacy/erased-guard.js'
import type { ErasureService } from '../privacy/erasure-service.js'
import { RetentionScheduler, type RetentionSchedulerOptions } from '../privacy/retention-scheduler.js'
import { storeErasure, storeRedaction, storeRetention } from '../privacy/store-erasure.js'
import { LineageService } from '../lineage/lineage-service.js'
import { ReadService } from '../query/read-service.js'
import type { Store } from '../store/store.js'
import type { AppEnv } from './app-env.js'
import { installErrorHandling } from './error-response.js'
import { MemoryBudget } from './memory-budget.js'
import { healthRoutes } from './routes/health-routes.js'
import { ingestRoutes } from './routes/ingest-routes.js'
import { keyRoutes } from './routes/key-routes.js'
import { alertRoutes } from './routes/alert-routes.js'
import { auditRoutes } from './routes/audit-routes.js'
import { analysisRoutes } from './routes/analysis-routes.js'
import { datasetRoutes } from './routes/dataset-routes.js'
import { reviewRoutes } from './routes/review-routes.js'
import { driftRoutes } from './routes/drift-routes.js'
import { estimationRoutes } from './routes/estimation-routes.js'
import { compareRoutes } from './routes/compare-routes.js'
import { metricsRoutes } from './routes/metrics-routes.js'
import { streamRoutes } from './routes/stream-routes.js'
import { modelRoutes } from './routes/model-routes.js'
import { otlpRoutes } from './routes/otlp-routes.js'
import { recordRoutes } from './routes/record-routes.js'
import { dashboardRoutes, defaultDashboardDir } from './routes/dashboard-routes.js'
import { sessionRoutes } from './routes/session-routes.js'
import { BrowserSessions } from '../auth/browser-sessions.js'
import { lineageRoutes } from './routes/lineage-routes.js'
import { privacyRoutes } from './routes/privacy-routes.js'

/** Options of {@link createApp}. */
export interface AppOptions {
  /** A migrated store. The app does not own it: closing the app leaves the store open. */
  store: Store
  /** Default {@link DEFAULT_LIMITS}. */
  limits?: Partial<LimitsConfig>
  /** Default {@link DEFAULT_WRITE_QUEUE}. */
  writeQueue?: Partial<WriteQueueConfig>
  /**
   * Open mode and key caching. Default {@link DEFAULT_AUTH} except `requireKeys`, which defaults
   * to false here: an in-process app serves its caller as the operator.
   */
  auth?: Partial<AuthConfig>
  /** Bytes request bodies may hold at once. Default 256 MiB ({@link DEFAULT_HTTP}). */
  memoryBudgetBytes?: number
  /**
   * Where accepted items go through the group commit. Default: the store. A scale-out collector
   * passes a queue publisher (`QueueWriter`); its `ping` joins the readiness check.
   */
  writer?: Pick<Store, 'writeBatch'> & { ping?(): Promise<void> }
  /** Called after each commit to the log (the commit feed's cue); never for a queue publisher. Default none. */
  onCommit?: () => void
  /** Epoch-ms clock. Default `Date.now`. */
  now?: () => number
  /** Default: a fresh registry with Node process metrics. */
  metrics?: ServerMetrics
  /** Default: JSON lines on stderr ({@link createLogger}). */
  logger?: Logger
  /** Alert evaluation; `start()` is called by the server, not by the app. Default {@link AlertsOptions} defaults. */
  alerts?: AlertsOptions
  /**
   * Where dataset versions are written (`<dir>/<project>/...`), and the store URL for building
   * them in a worker thread. Default: no dataset endpoints (404).
   */
  datasets?: DatasetBuildsOptions
  /** Retraining triggers (with `datasets` only); `start()` is called by the server. Default {@link DatasetTriggersOptions} defaults. */
  triggers?: DatasetTriggersOptions
  /**
   * The built dashboard served at `/`: a directory holding `index.html` and `assets/`, or false
   * for none. Default: `dist/` of the installed `@inferlog/dashboard` package.
   */
  dashboard?: { dir: string } | false
  /** Erasure settings and the SDK's pseudonymization secret. Default `DEFAULT_PRIVACY`. */
  privacy?: Partial<PrivacyConfig>
  /** The retention schedule; `start()` is called by the server. Default {@link RetentionSchedulerOptions} defaults. */
  retention?: RetentionSchedulerOptions
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
  /** What request bodies hold now (bytes), against the budget. */
  budget: MemoryBudget
  /** Alert rules and their evaluation (the server starts the loop). */
  alerts: Alerts
  /** Dataset retraining triggers, when datasets are on (the server starts the loop). */
  triggers: DatasetTriggers | undefined
  /** Privacy erasure (`POST /v1/erasure`). */
  erasure: ErasureService
  /** Retention policies applied on a schedule (the server starts it). */
  retention: RetentionScheduler
  /** Stops taking writes and waits for queued ones to commit. Idempotent. */
  close(): Promise<void>
}

/**
 * Builds the collector: routes (mounted from `routes/`), auth, the ingest pipeline with group
 * commit, reads and metrics. Every error leaves through one place (`error-response.ts`).
 */
export function createApp(o: AppOptions): InferlogApp {
  const limits: LimitsConfig = { ...DEFAULT_LIMITS, ...o.limits }
  const wq: WriteQueueConfig = { ...DEFAULT_WRITE_QUEUE, ...o.writeQueue }
  const authConfig: AuthConfig = { ...DEFAULT_AUTH, ...o.auth }
  const now = o.now ?? Date.now
  const metrics = o.metrics ?? createMetrics()
  const logger = o.logger ?? createLogger()
  const live = new LiveStream(o.store)
  const queue = new WriteQueue(o.writer ?? o.store, wq, metrics, () => {
    live.poke()
    o.onCommit?.()
  })
  const validator = createValidator({ maxDepth: limits.maxDepth })
  // A queue publisher does not write the log: ask the store which items are erased before publishing.
  const redaction = storeRedaction(o.store, { now })
  const ingest = new IngestService({
    queue,
    validator,
    limits,
    metrics,
    now,
    redaction,
    ...(o.writer ? { erased: new ErasedGuard(o.store, { logger, now }) } : {}),
  })
  const reads = new ReadService(o.store)
  const sessions = new BrowserSessions(o.store.derived, { ttlMs: authConfig.sessionTtlMs, cacheMs: authConfig.keyCacheMs, now })
  const auth = new Authenticator(o.store, {
    sessions,
    open: !authConfig.requireKeys,
    cacheMs: authConfig.keyCacheMs,
    staleMs: authConfig.keyStaleMs,
    now,
  })
  const budget = new MemoryBudget(o.memoryBudgetBytes ?? DEFAULT_HTTP.memoryBudgetBytes, wq.retryAfterSeconds, metrics.requestMemory)

  const app = new Hono<AppEnv>()
  installErrorHandling(app, { logger, metrics, now })
  app.route('/v1', ingestRoutes({ auth, ingest, limits, budget }))
  app.route('/v1', recordRoutes({ auth, reads }))
  app.route('/v1', auditRoutes({ auth, store: o.store }))
  app.route('/v1', keyRoutes({ auth, store: o.store, budget, now }))
  app.route('/v1', sessionRoutes({ auth, sessions, budget }))
  const configs = new ModelConfigs(o.store.derived, now)
  app.route('/v1', modelRoutes({ auth, derived: o.store.derived, configs, budget }))
  const reader = new MetricsReader(o.store.derived, now)
  app.route('/v1', metricsRoutes({ auth, reader, configs, estimates: new MetricsEstimates(o.store), now }))
  app.route('/v1', streamRoutes({ auth, live, reader, configs, now }))
  const comparisons = new Comparisons(reader, configs, o.store, now)
  app.route('/v1', compareRoutes({ auth, comparisons, budget }))
  const drift = new DriftService(o.store, o.store.derived, now)
  const alerts = new Alerts(o.store.derived, reader, configs, comparisons, { now, logger, drift, ...o.alerts })
  app.route('/v1', alertRoutes({ auth, alerts, budget }))
  app.route('/v1', driftRoutes({ auth, drift, budget }))
  app.route('/v1', estimationRoutes({ auth, estimation: new EstimationService(o.store), budget }))
  const review = new ReviewQueues(
    o.store,
    o.store.derived,
    (project, items) =>
      ingest.ingest(
        'feedback',
        project,
        items.map((value, index) => ({ index, value, bytes: -1 })),
      ),
    now,
  )
  app.route('/v1', reviewRoutes({ auth, review, budget }))
  let triggers: DatasetTriggers | undefined
  const builds = o.datasets ? new DatasetBuilds(o.store, o.datasets) : undefined
  if (o.datasets && builds) {
    triggers = new DatasetTriggers(o.store.derived, builds, { now, logger, ...o.triggers })
    app.route('/v1', datasetRoutes({ auth, builds, triggers, budget }))
  }
  app.route('/v1', lineageRoutes({ auth, lineage: new LineageService(o.store, reads, builds), datasets: builds !== undefined }))
  const erasure = storeErasure(o.store, {
    ...(o.privacy ? { privacy: o.privacy } : {}),
    // Dataset versions that hold an erased event lose their data files.
    ...(builds ? { onErased: async (project, ids, record) => void builds.purgeErased(project, ids, record, now()) } : {}),
    now,
  })
  const { policies, service: retentionService } = storeRetention(o.store, { now })
  const retention = new RetentionScheduler(o.store.derived, retentionService, { logger, ...o.retention })
  app.route('/v1', privacyRoutes({ auth, erasure, policies, retention: retentionService, redaction, budget }))
  app.route('/v1', analysisRoutes({ auth, reader, configs, prices: new PriceTables(o.store.derived, now), log: o.store, budget, now }))
  app.route('/v1', otlpRoutes({ auth, ingest, limits, budget, metrics }))
  app.route('/', healthRoutes({ store: o.store, ...(o.writer ? { writer: o.writer } : {}), queue, metrics }))
  if (o.dashboard !== false) app.route('/', dashboardRoutes({ dir: o.dashboard ? o.dashboard.dir : defaultDashboardDir() }))

  let closing: Promise<void> | undefined
  return {
    app: app as unknown as Hono,
    ingest,
    reads,
    queue,
    auth,
    metrics,
    budget,
    alerts,
    triggers,
    erasure,
    retention,
    close: () =>
      (closing ??= (async () => {
        alerts.stop()
        await triggers?.stop()
        await retention.stop()
        await queue.close()
      })()),
  }
}
