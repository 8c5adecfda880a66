import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** Prometheus metrics of one server instance (own registry: no global state). */
export interface ServerMetrics {
  registry: Registry
  /** Items by kind (`event`/`feedback`) and outcome (`inserted`, `duplicate`, or a rejection code). */
  ingestItems: Counter<'kind' | 'outcome'>
  /** Requests by route and status. */
  httpRequests: Counter<'route' | 'status'>
  /** Items waiting for the group commit. */
  writeQueueDepth: Gauge
  /** Time of one group-commit transaction, seconds. */
  commitSeconds: Histogram
  /** Items per committed transaction. */
  commitItems: Histogram
  /** Bytes request bodies hold now against the memory budget (set on scrape). */
  requestMemory: Gauge
  /** OTLP spans received by outcome: `stored` (event or feedback), `ignored` (not GenAI), `rejected`. */
  otlpSpans: Counter<'outcome'>
}

/**
 * Creates the metric set on a fresh registry.
 * @param withDefaults also collect Node process metrics. Default true.
 */
export function createMetrics(withDefaults = true): ServerMetrics {
  const registry = new Registry()
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'inferlog_' })
  return {
    registry,
    ingestItems: new Counter({
      name: 'inferlog_ingest_items_total',
      help: 'Ingested items by kind and outcome (inserted, duplicate, or the rejection code)',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'inferlog_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    writeQueueDepth: new Gauge({
      name: 'inferlog_write_queue_depth',
      help: 'Items waiting for the group commit',
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'inferlog_commit_duration_seconds',
      help: 'Duration of one group-commit transaction',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    requestMemory: new Gauge({
      name: 'inferlog_request_memory_bytes',
      help: 'Bytes that in-flight request bodies hold against the memory budget',
      registers: [registry],
    }),
    otlpSpans: new Counter({
      name: 'inferlog_otlp_spans_total',
      help: 'OTLP spans received by outcome: stored (as an event or feedback), ignored (not a GenAI span), rejected',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    commitItems: new Histogram({
      name: 'inferlog_commit_items',
      help: 'Items written per group-commit transaction',
      buckets: [1, 10, 100, 500, 1000, 2000, 5000, 10000, 20000],
      registers: [registry],
    }),
  }
}
