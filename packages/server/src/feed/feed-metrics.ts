import { Gauge, Histogram, type Registry } from 'prom-client'
import type { FeedProgress } from './feed-runner.js'

/**
 * Registers the commit feed's metrics on a registry and returns the progress callback that keeps
 * them: the position each consumer applied, and how long after their commit batches were applied.
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
  return (consumer, p) => {
    position.set({ consumer }, p.position)
    lag.observe({ consumer }, Math.max(0, p.appliedMs - p.committedMs) / 1000)
  }
}
