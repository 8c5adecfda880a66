import path from 'node:path'
import { InferlogError } from './errors.js'

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
}

/** Defaults of {@link LimitsConfig}. */
export const DEFAULT_LIMITS: Readonly<LimitsConfig> = {
  maxBodyBytes: 5 * 1024 * 1024,
  maxEventBytes: 1024 * 1024,
  maxBatchItems: 10_000,
  maxDepth: 64,
}

/** Defaults of {@link WriteQueueConfig}. */
export const DEFAULT_WRITE_QUEUE: Readonly<WriteQueueConfig> = {
  maxPendingItems: 100_000,
  maxCommitItems: 20_000,
  retryAfterSeconds: 1,
}

/** Input of {@link resolveServerConfig}: flags, each optional. */
export interface ServerConfigInput {
  host?: string
  port?: number | string
  data?: string
  store?: string
  queue?: string
  limits?: Partial<LimitsConfig>
  writeQueue?: Partial<WriteQueueConfig>
}

function positiveInt(name: string, v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) {
    throw new InferlogError('invalid_parameter', `${name} must be a positive integer, got ${JSON.stringify(v)}`)
  }
  return n
}

/**
 * Builds the typed configuration from flags, then environment variables (`INFERLOG_HOST`,
 * `INFERLOG_PORT`, `INFERLOG_DATA`, `INFERLOG_STORE`, `INFERLOG_QUEUE`, `INFERLOG_MAX_BODY_BYTES`,
 * `INFERLOG_MAX_EVENT_BYTES`, `INFERLOG_MAX_BATCH_ITEMS`), then defaults.
 */
export function resolveServerConfig(input: ServerConfigInput = {}, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const host = input.host ?? env.INFERLOG_HOST ?? '127.0.0.1'
  const portRaw = input.port ?? env.INFERLOG_PORT ?? 7070
  const port = Number(portRaw)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InferlogError('invalid_parameter', `--port must be an integer 0..65535, got ${JSON.stringify(portRaw)}`)
  }
  const dataDir = path.resolve(input.data ?? env.INFERLOG_DATA ?? './data')
  const storeUrl = input.store ?? env.INFERLOG_STORE ?? `sqlite:${path.join(dataDir, 'inferlog.db')}`
  const envLimit = (k: string) => (env[k] === undefined ? undefined : positiveInt(k, env[k]))
  const limits: LimitsConfig = {
    maxBodyBytes: input.limits?.maxBodyBytes ?? envLimit('INFERLOG_MAX_BODY_BYTES') ?? DEFAULT_LIMITS.maxBodyBytes,
    maxEventBytes: input.limits?.maxEventBytes ?? envLimit('INFERLOG_MAX_EVENT_BYTES') ?? DEFAULT_LIMITS.maxEventBytes,
    maxBatchItems: input.limits?.maxBatchItems ?? envLimit('INFERLOG_MAX_BATCH_ITEMS') ?? DEFAULT_LIMITS.maxBatchItems,
    maxDepth: input.limits?.maxDepth ?? DEFAULT_LIMITS.maxDepth,
  }
  for (const [k, v] of Object.entries(limits)) positiveInt(k, v)
  const writeQueue: WriteQueueConfig = { ...DEFAULT_WRITE_QUEUE, ...input.writeQueue }
  const queueUrl = input.queue ?? env.INFERLOG_QUEUE
  return { host, port, dataDir, storeUrl, ...(queueUrl ? { queueUrl } : {}), limits, writeQueue }
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1'
}
