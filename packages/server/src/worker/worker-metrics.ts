import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** Prometheus metrics of one worker (own registry: no global state). */
export interface WorkerMetrics {
  registry: Registry
  /** Groups written and acknowledged. */
  groups: Counter
  /** Items by kind and outcome (`inserted`, `duplicate`, `conflict`). */
  items: Counter<'kind' | 'outcome'>
  /** Deliveries that were redeliveries (a worker died or gave the group back). */
  redeliveries: Counter
  /** Store writes that failed and were retried, by reason (`store`, `data`). */
  failures: Counter<'reason'>
  /** Groups that can never be written (undecodable or refused by the store as data), terminated. */
  /** Items the store refused as data: set aside, never retried. */
  refusedItems: Counter
  /** Time of one store transaction. */
  writeSeconds: Histogram
  /** Groups in the stream not yet delivered to any worker (set on scrape when the queue tells). */
  queuePending: Gauge
  /** Groups delivered and not yet acknowledged. */
  queueAckPending: Gauge
}

/** Creates the worker metric set on a fresh registry. */
export function createWorkerMetrics(withDefaults = true): WorkerMetrics {
  const registry = new Registry()
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'inferlog_worker_' })
  const r = [registry]
  return {
    registry,
    groups: new Counter({ name: 'inferlog_worker_groups_total', help: 'Queued groups written and acknowledged', registers: r }),
    items: new Counter({
      name: 'inferlog_worker_items_total',
      help: 'Items written by kind and outcome',
      labelNames: ['kind', 'outcome'],
      registers: r,
    }),
    redeliveries: new Counter({ name: 'inferlog_worker_redeliveries_total', help: 'Deliveries that were redeliveries', registers: r }),
    failures: new Counter({
      name: 'inferlog_worker_write_failures_total',
      help: 'Failed store writes (retried), by reason',
      labelNames: ['reason'],
      registers: r,
    }),
    refusedItems: new Counter({
      name: 'inferlog_worker_refused_items_total',
      help: 'Items the store refuses as data, set aside (logged with their ids) while the rest of their group is written',
      registers: r,
    }),
    writeSeconds: new Histogram({
      name: 'inferlog_worker_write_duration_seconds',
      help: 'Duration of one store transaction',
      buckets: [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers: r,
    }),
    queuePending: new Gauge({
      name: 'inferlog_worker_queue_pending',
      help: 'Groups in the stream not yet delivered (consumer lag)',
      registers: r,
    }),
    queueAckPending: new Gauge({
      name: 'inferlog_worker_queue_ack_pending',
      help: 'Groups delivered and not yet acknowledged',
      registers: r,
    }),
  }
}
