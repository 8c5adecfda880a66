import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { FeedProgress } from './feed-runner.js'

/**
 * Registers the commit feed's metrics on a registry and returns the progress callback that keeps
 * them: the position each consumer applied, how long after their commit batches were applied,
 * and the rows the consumers read back from the store (a feed that keeps up reads almost none: the
 * collector hands it what it commits).
 */
export function feedMetrics(registry: Registry): (consumer: string, p: FeedProgress) => void {
  const position = new Gauge({
    name: 'inferlog_feed_position',
    help: 'Last commit position each feed consumer applied',
    labelNames: ['consumer'],
    registers: [registry],
  })
  const lag = new Histogram({
    name: 'inferlog_feed_lag_seconds',
    help: 'Time from a batch commit to its application by a feed consumer',
    labelNames: ['consumer'],
    buckets: [0.01, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [registry],
  })
  const readBack = new Counter({
    name: 'inferlog_feed_rows_read_back_total',
    help: 'Rows the commit feed consumers read back from the store (not handed over as committed, or no longer cached when a consumer got to them)',
    registers: [registry],
  })
  // The runner's count since it started; a restarted runner (or thread) starts again from 0.
  let seen = 0
  return (consumer, p) => {
    if (p.readBack !== undefined) {
      readBack.inc(p.readBack >= seen ? p.readBack - seen : p.readBack)
      seen = p.readBack
    }
    position.set({ consumer }, p.position)
    lag.observe({ consumer }, Math.max(0, p.appliedMs - p.committedMs) / 1000)
  }
}
