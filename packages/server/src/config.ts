import path from 'node:path'
import { InferlogError } from './errors.js'
import { type ConsumerSelection, parseConsumerSelection } from './feed/consumer-selection.js'
import { DEFAULT_YIELD_ABOVE } from './feed/feed-runner.js'

/** Request and item limits. Exceeding one is a per-request or per-item error, never a crash. */
export interface LimitsConfig {
  /** Largest request body, after gzip decompression. Default 5 MiB (5 242 880). */
  maxBodyBytes: number
  /** Largest single event or feedback item (canonical JSON). Default 1 MiB (1 048 576). */
  maxEventBytes: number
  /** Most items in one request. Default 10 000. */
  maxBatchItems: number
  /** Deepest nesting of objects/arrays in one item. Default 64. */
  maxDepth: number
  /** How far ahead of the server's clock an item's `ts` may be, ms. Default 1 day (86 400 000). */
  maxFutureSkewMs: number
}

/** The group-commit write queue. */
export interface WriteQueueConfig {
  /** Items waiting to be committed before new requests get 503 + Retry-After. Default 100 000. */
  maxPendingItems: number
  /** Most items written in one transaction. Default 20 000. */
  maxCommitItems: number
  /** Value of `Retry-After` (seconds) when overloaded. Default 1. */
  retryAfterSeconds: number
}

/** Connection handling: what a slow, stalled or hostile client may hold. */
export interface HttpConfig {
  /** Time to receive a request's headers, ms. Default 30 000. */
  headersTimeoutMs: number
  /** Time to receive a whole request, body included, ms. Default 60 000. */
  bodyTimeoutMs: number
  /** A connection with no request in progress (kept alive, or that never sends anything) is closed after this long, ms. Default 60 000. */
  idleTimeoutMs: number
  /** Most open connections; further ones are refused at once. Default 4 096. */
  maxConnections: number
  /**
   * Bytes that request bodies may hold at once, counted as they are read, inflated and parsed
   * (parsing is charged at about 3× the text plus 64 bytes per object or array), until the reply.
   * Past it a request gets 503 + Retry-After before more is read or inflated. Default 256 MiB.
   */
  memoryBudgetBytes: number
}

/** Who may call without a key. */
export interface AuthConfig {
  /**
   * Refuse requests that carry no API key. Default false on loopback (open mode: a keyless
   * request is the local operator); binding beyond loopback forces it on.
   */
  requireKeys: boolean
  /** How long a checked key is trusted before the store is asked again, ms. Default 2 000. */
  keyCacheMs: number
  /**
   * While the store cannot be reached, keys checked within this long keep working, ms; others get
   * 503. Also the bound on how long a key revoked elsewhere can still be used. Default 60 000.
   */
  keyStaleMs: number
  /** How long a dashboard sign-in (`POST /v1/session`) lasts, capped at the key's expiry, ms. Default 43 200 000 (12 h). */
  sessionTtlMs: number
}

/** Privacy operations: erasure and pseudonymization. */
export interface PrivacyConfig {
  /**
   * The secret the SDKs pseudonymize user ids with (`pseudonymize: {secret}`): an erasure by
   * `user_id` then also finds the events that carry its HMAC. Default none.
   */
  pseudonymizeSecret?: string
  /** An erasure matching more events than this needs `confirm: true` (`--yes`). Default 1 000. */
  erasureConfirmThreshold: number
  /** How often retention policies are applied, ms. Default 3 600 000 (hourly). */
  retentionIntervalMs: number
}

/** Defaults of {@link PrivacyConfig}. */
export const DEFAULT_PRIVACY: Readonly<PrivacyConfig> = { erasureConfirmThreshold: 1_000, retentionIntervalMs: 3_600_000 }

/** The audit chain's signed checkpoints. */
export interface AuditConfig {
  /** PEM file of the Ed25519 key checkpoints are signed with (`--audit-key`). Default none: no checkpoints. */
  keyFile?: string
  /** How often the sealed head is signed when it moved, ms. Default 10 000. */
  checkpointIntervalMs: number
}

/** Everything the server needs, parsed once at start-up. */
export interface ServerConfig {
  /** Default `127.0.0.1`. Binding elsewhere requires API keys. */
  host: string
  /** Default 7070; 0 picks a free port. */
  port: number
  /** Default `./data`. */
  dataDir: string
  /** Default `sqlite:<dataDir>/inferlog.db`. */
  storeUrl: string
  /** Scale-out: publish accepted items to this queue (`nats://…`) instead of writing the store. Default none. */
  queueUrl?: string
  limits: LimitsConfig
  writeQueue: WriteQueueConfig
  http: HttpConfig
  auth: AuthConfig
  privacy: PrivacyConfig
  /**
   * Commit-feed consumers this process runs (when it commits to the log): `all` (`catalog`,
   * `metrics`, `audit`, `profiles`), `none`, or a list of those names and `noop`. Default `all`; `none`
   * is for benchmarks and for processes that leave derivation to others; `noop` (reads the feed,
   * derives nothing) measures what the feed itself costs.
   */
  consumers: ConsumerSelection
  /**
   * Where the embedded SQLite collector runs those consumers: in a thread of their own (`thread`,
   * default `true`; `INFERLOG_FEED_THREAD`), at nice value `nice` (0–19, default 10;
   * `INFERLOG_FEED_NICE`), so their CPU never delays a request and, when the CPU is the limit,
   * ingest comes first. `thread: false` runs them on the event loop. PostgreSQL and queue
   * workers always run them on the event loop.
   */
  feed: FeedConfig
  /** Signed checkpoints of the audit chain (`--audit-key`, `--checkpoint-interval-ms`). */
  audit: AuditConfig
  /** How often dataset triggers are looked at, ms (`INFERLOG_TRIGGER_TICK_MS`). Default 10 000. */
  triggerTickMs: number
  /**
   * Threads compiling one dataset build, its own included, each over ranges of the log
   * (`INFERLOG_DATASET_WORKERS`, `DatasetBuilds({ workers })`; parquet builds have their own
   * setting, default 1); 1 compiles on the build's own thread. Default
   * `min(2, os.availableParallelism())`.
   */
  datasetWorkers?: number
}

/** See {@link ServerConfig.feed}. */
export interface FeedConfig {
  thread: boolean
  nice: number
  /**
   * With `thread`, run the consumers in a child process instead (`INFERLOG_FEED_PROCESS`): all its
   * threads yield (SCHED_IDLE or `nice`), its garbage collection too (see `FeedThreadOptions.process`).
   * Default false.
   */
  process: boolean
  /**
   * The consumers' thread (the thread alone) or child process (all its threads) runs under
   * SCHED_IDLE where `chrt` is installed (`INFERLOG_FEED_IDLE`; see `FeedThreadOptions.idle`),
   * else at `nice`. Default true.
   */
  idle: boolean
  /**
   * Ingest first (`INFERLOG_FEED_YIELD`, `--feed-yield`): while the collector is at least this busy
   * (0–1, over the last second: its event loop's utilization or its writer's, whichever is higher)
   * and the consumers are more than 5 s behind, their thread or process holds its steps so that it
   * takes at most a tenth of the time (`FeedRunnerOptions.yieldAbove`). 1 (or `off`): never.
   * Default 0.6.
   */
  yieldAbove: number
}

/** Defaults of {@link LimitsConfig}. */
export const DEFAULT_LIMITS: Readonly<LimitsConfig> = {
  maxBodyBytes: 5 * 1024 * 1024,
  maxEventBytes: 1024 * 1024,
  maxBatchItems: 10_000,
  maxDepth: 64,
  maxFutureSkewMs: 24 * 60 * 60 * 1000,
}

/** Defaults of {@link WriteQueueConfig}. */
export const DEFAULT_WRITE_QUEUE: Readonly<WriteQueueConfig> = {
  maxPendingItems: 100_000,
  maxCommitItems: 20_000,
  retryAfterSeconds: 1,
}

/** Defaults of {@link HttpConfig}. */
export const DEFAULT_HTTP: Readonly<HttpConfig> = {
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  maxConnections: 4096,
  memoryBudgetBytes: 256 * 1024 * 1024,
}

/** Defaults of {@link AuthConfig}. */
export const DEFAULT_AUTH: Readonly<AuthConfig> = {
  requireKeys: false,
  keyCacheMs: 2_000,
  keyStaleMs: 60_000,
  sessionTtlMs: 43_200_000,
}

/** Input of {@link resolveServerConfig}: flags, each optional. */
export interface ServerConfigInput {
  host?: string
  port?: number | string
  data?: string
  store?: string
  queue?: string
  requireKeys?: boolean
  limits?: Partial<LimitsConfig>
  writeQueue?: Partial<WriteQueueConfig>
  http?: Partial<HttpConfig>
  auth?: Partial<AuthConfig>
  privacy?: Partial<PrivacyConfig>
  /** `all`, `none` or a comma list of consumer names. */
  consumers?: string
  /** Run the consumers in a thread of their own (embedded SQLite). */
  feedThread?: boolean | string
  /** Nice value of that thread, 0–19. */
  feedNice?: number | string
  /** Run that thread's consumers in a child process instead. */
  feedProcess?: boolean | string
  /** Run that thread or child process under SCHED_IDLE (where `chrt` is installed). */
  feedIdle?: boolean | string
  /** The collector's load (event loop or writer) from which the consumers yield to ingest, 0–1, or `off`. */
  feedYield?: number | string
  /** PEM file of the Ed25519 checkpoint key. */
  auditKey?: string
  /** Checkpoint interval, ms. */
  checkpointIntervalMs?: number | string
  triggerTickMs?: number | string
  datasetWorkers?: number | string
}

function positiveInt(name: string, v: unknown): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
    throw new InferlogError('invalid_parameter', `${name} must be a positive integer, got ${JSON.stringify(v)}`)
  }
  return n
}

function niceValue(v: unknown): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 19) {
    throw new InferlogError('invalid_parameter', `feed nice value must be an integer from 0 to 19, got ${JSON.stringify(v)}`)
  }
  return n
}

/** A utilization bound in (0, 1], `off` (= 1: never), or the default when unset. */
function utilization(name: string, v: unknown, dflt: number): number {
  if (v === undefined || v === '') return dflt
  if (typeof v === 'string' && v.trim().toLowerCase() === 'off') return 1
  const n = typeof v === 'string' && /^\s*(0|1)?(\.\d+)?\s*$/.test(v) && v.trim() !== '.' ? Number(v) : v
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > 1) {
    throw new InferlogError('invalid_parameter', `${name} must be a number above 0 and at most 1, or off, got ${JSON.stringify(v)}`)
  }
  return n
}

function bool(name: string, v: string): boolean {
  if (/^(1|true|yes)$/i.test(v)) return true
  if (/^(0|false|no|)$/i.test(v)) return false
  throw new InferlogError('invalid_parameter', `${name} must be true or false, got ${JSON.stringify(v)}`)
}

/** A switch given as a boolean (flags, code) or as text (`name`, the environment); `dflt` when absent. */
function flag(name: string, v: boolean | string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt
  return typeof v === 'boolean' ? v : bool(name, v)
}

/** Environment variable of each numeric setting. */
const ENV = {
  limits: {
    maxBodyBytes: 'INFERLOG_MAX_BODY_BYTES',
    maxEventBytes: 'INFERLOG_MAX_EVENT_BYTES',
    maxBatchItems: 'INFERLOG_MAX_BATCH_ITEMS',
    maxDepth: 'INFERLOG_MAX_DEPTH',
    maxFutureSkewMs: 'INFERLOG_MAX_FUTURE_SKEW_MS',
  },
  http: {
    headersTimeoutMs: 'INFERLOG_HEADERS_TIMEOUT_MS',
    bodyTimeoutMs: 'INFERLOG_BODY_TIMEOUT_MS',
    idleTimeoutMs: 'INFERLOG_IDLE_TIMEOUT_MS',
    maxConnections: 'INFERLOG_MAX_CONNECTIONS',
    memoryBudgetBytes: 'INFERLOG_MEMORY_BUDGET_BYTES',
  },
} as const

/** Flag (first), environment variable, default: each validated as a positive integer. */
function section<T extends { [K in keyof T]: number }>(
  defaults: Readonly<T>,
  env: { readonly [K in keyof T]: string },
  given: Partial<T> | undefined,
  vars: NodeJS.ProcessEnv,
): T {
  const out = { ...defaults } as T
  for (const k of Object.keys(defaults) as (keyof T & string)[]) {
    const flag = given?.[k]
    const fromEnv = vars[env[k]]
    if (flag !== undefined) out[k] = positiveInt(k, flag) as T[typeof k]
    else if (fromEnv !== undefined && fromEnv !== '') out[k] = positiveInt(env[k], fromEnv) as T[typeof k]
  }
  return out
}

/**
 * Builds the typed configuration from flags, then environment variables (`INFERLOG_HOST`,
 * `INFERLOG_PORT`, `INFERLOG_DATA`, `INFERLOG_STORE`, `INFERLOG_QUEUE`, `INFERLOG_REQUIRE_KEYS`,
 * the limits `INFERLOG_MAX_BODY_BYTES`, `INFERLOG_MAX_EVENT_BYTES`, `INFERLOG_MAX_BATCH_ITEMS`,
 * `INFERLOG_MAX_DEPTH`, `INFERLOG_MAX_FUTURE_SKEW_MS`, and the connection settings
 * `INFERLOG_HEADERS_TIMEOUT_MS`, `INFERLOG_BODY_TIMEOUT_MS`, `INFERLOG_IDLE_TIMEOUT_MS`,
 * `INFERLOG_MAX_CONNECTIONS`, `INFERLOG_MEMORY_BUDGET_BYTES`, `INFERLOG_CONSUMERS`,
 * `INFERLOG_TRIGGER_TICK_MS`, `INFERLOG_DATASET_WORKERS`, the privacy settings `INFERLOG_PSEUDONYMIZE_SECRET`,
 * `INFERLOG_ERASURE_CONFIRM_THRESHOLD`, `INFERLOG_RETENTION_INTERVAL_MS`, and the audit chain's
 * `INFERLOG_AUDIT_KEY` and `INFERLOG_CHECKPOINT_INTERVAL_MS`), then defaults.
 */
export function resolveServerConfig(input: ServerConfigInput = {}, vars: NodeJS.ProcessEnv = process.env): ServerConfig {
  // An empty variable (`INFERLOG_DATA=`) means unset, as in most tools.
  const env = Object.fromEntries(Object.entries(vars).filter(([k, v]) => k.startsWith('INFERLOG_') && v !== '')) as NodeJS.ProcessEnv
  const host = input.host ?? env.INFERLOG_HOST ?? '127.0.0.1'
  const portRaw = input.port ?? env.INFERLOG_PORT ?? 7070
  const port = typeof portRaw === 'string' && /^\d+$/.test(portRaw) ? Number(portRaw) : portRaw
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InferlogError('invalid_parameter', `--port must be an integer 0..65535, got ${JSON.stringify(portRaw)}`)
  }
  const dataDir = path.resolve(input.data ?? env.INFERLOG_DATA ?? './data')
  const storeUrl = input.store ?? env.INFERLOG_STORE ?? `sqlite:${path.join(dataDir, 'inferlog.db')}`
  const limits = section(DEFAULT_LIMITS, ENV.limits, input.limits, env)
  const http = section(DEFAULT_HTTP, ENV.http, input.http, env)
  const writeQueue: WriteQueueConfig = { ...DEFAULT_WRITE_QUEUE, ...input.writeQueue }
  const queueUrl = input.queue ?? env.INFERLOG_QUEUE
  const requireKeys =
    input.requireKeys ??
    input.auth?.requireKeys ??
    (env.INFERLOG_REQUIRE_KEYS ? bool('INFERLOG_REQUIRE_KEYS', env.INFERLOG_REQUIRE_KEYS) : false)
  const auth: AuthConfig = {
    ...DEFAULT_AUTH,
    ...input.auth,
    // Beyond loopback a keyless request could come from anyone: open mode is never on there.
    requireKeys: requireKeys || !isLoopbackHost(host),
  }
  const consumers = parseConsumerSelection(input.consumers ?? env.INFERLOG_CONSUMERS ?? 'all')
  const feedNice = input.feedNice ?? env.INFERLOG_FEED_NICE
  const feed: FeedConfig = {
    thread: flag('INFERLOG_FEED_THREAD', input.feedThread ?? env.INFERLOG_FEED_THREAD, true),
    nice: feedNice === undefined || feedNice === '' ? 10 : niceValue(feedNice),
    process: flag('INFERLOG_FEED_PROCESS', input.feedProcess ?? env.INFERLOG_FEED_PROCESS, false),
    idle: flag('INFERLOG_FEED_IDLE', input.feedIdle ?? env.INFERLOG_FEED_IDLE, true),
    yieldAbove: utilization('--feed-yield (INFERLOG_FEED_YIELD)', input.feedYield ?? env.INFERLOG_FEED_YIELD, DEFAULT_YIELD_ABOVE),
  }
  const tick = input.triggerTickMs ?? env.INFERLOG_TRIGGER_TICK_MS
  const triggerTickMs = tick === undefined ? 10_000 : positiveInt('INFERLOG_TRIGGER_TICK_MS', tick)
  const workersRaw = input.datasetWorkers ?? env.INFERLOG_DATASET_WORKERS
  const datasetWorkers = workersRaw === undefined ? undefined : positiveInt('INFERLOG_DATASET_WORKERS', workersRaw)
  const secret = input.privacy?.pseudonymizeSecret ?? env.INFERLOG_PSEUDONYMIZE_SECRET
  const threshold = input.privacy?.erasureConfirmThreshold ?? env.INFERLOG_ERASURE_CONFIRM_THRESHOLD
  const retentionEvery = input.privacy?.retentionIntervalMs ?? env.INFERLOG_RETENTION_INTERVAL_MS
  const privacy: PrivacyConfig = {
    ...DEFAULT_PRIVACY,
    ...(secret ? { pseudonymizeSecret: secret } : {}),
    ...(threshold !== undefined ? { erasureConfirmThreshold: positiveInt('INFERLOG_ERASURE_CONFIRM_THRESHOLD', threshold) } : {}),
    ...(retentionEvery !== undefined ? { retentionIntervalMs: positiveInt('INFERLOG_RETENTION_INTERVAL_MS', retentionEvery) } : {}),
  }
  const keyFile = input.auditKey ?? env.INFERLOG_AUDIT_KEY
  const every = input.checkpointIntervalMs ?? env.INFERLOG_CHECKPOINT_INTERVAL_MS
  const audit: AuditConfig = {
    ...(keyFile ? { keyFile: path.resolve(keyFile) } : {}),
    checkpointIntervalMs: every === undefined ? 10_000 : positiveInt('checkpoint interval (ms)', every),
  }
  return {
    host,
    port,
    dataDir,
    storeUrl,
    ...(queueUrl ? { queueUrl } : {}),
    limits,
    writeQueue,
    http,
    auth,
    privacy,
    consumers,
    feed,
    triggerTickMs,
    ...(datasetWorkers !== undefined ? { datasetWorkers } : {}),
    audit,
  }
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1'
}
