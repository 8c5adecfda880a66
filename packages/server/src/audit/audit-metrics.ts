import { Gauge, type Registry } from 'prom-client'
import type { DerivedStore, LogScanner } from '../store/store.js'
import { AUDIT_CONSUMER } from './audit-chain-consumer.js'

/**
 * Registers the chain's gauges, read from the store on each scrape: `inferlog_audit_sealed_batch`
 * (the chain's watermark: "sealed up to batch N"), `inferlog_audit_head_batch` (the last committed
 * batch) and `inferlog_audit_unsealed_batches` (the difference, the chain's lag in batches). Its
 * lag in time is `inferlog_feed_lag_seconds{consumer="audit"}`.
 */
export function auditMetrics(
  registry: Registry,
  store: { derived: Pick<DerivedStore, 'watermark'> } & Pick<LogScanner, 'commitHead'>,
): void {
  let last: Promise<{ sealed: number; head: number }> | undefined
  let lastAt = 0
  // One store read serves the three gauges of a scrape.
  const read = () => {
    if (!last || Date.now() - lastAt > 100) {
      lastAt = Date.now()
      last = (async () => {
        const sealed = await store.derived.watermark(AUDIT_CONSUMER)
        const head = await store.commitHead()
        return { sealed, head }
      })().catch(() => ({ sealed: Number.NaN, head: Number.NaN }))
    }
    return last
  }
  new Gauge({
    name: 'inferlog_audit_sealed_batch',
    help: 'Last batch the audit chain sealed (sealed up to batch N)',
    registers: [registry],
    async collect() {
      this.set((await read()).sealed)
    },
  })
  new Gauge({
    name: 'inferlog_audit_head_batch',
    help: 'Last committed batch',
    registers: [registry],
    async collect() {
      this.set((await read()).head)
    },
  })
  new Gauge({
    name: 'inferlog_audit_unsealed_batches',
    help: 'Committed batches the audit chain has not sealed yet (its lag in batches)',
    registers: [registry],
    async collect() {
      const r = await read()
      this.set(Math.max(0, r.head - r.sealed))
    },
  })
}
