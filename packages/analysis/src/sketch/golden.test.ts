import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { QuantileSketch } from './quantile-sketch.js'

// numpy.quantile (linear) of skewed latency-like data: packages/analysis/scripts/make-monitoring-fixtures.py
const fx = JSON.parse(readFileSync(new URL('../../fixtures/monitoring-percentiles.json', import.meta.url), 'utf8'))

describe('QuantileSketch against numpy', () => {
  for (const set of fx.sets as { name: string; values: number[]; weights?: number[]; quantiles: Record<string, number> }[]) {
    it(`${set.name}: quantiles within the stated 1% relative error, also after encode/decode/merge of parts`, () => {
      const whole = new QuantileSketch()
      const parts = Array.from({ length: 7 }, () => new QuantileSketch())
      set.values.forEach((x, i) => {
        const w = set.weights?.[i] ?? 1
        whole.add(x, w)
        ;(parts[i % 7] as QuantileSketch).add(x, w)
      })
      const merged = new QuantileSketch()
      for (const p of parts) merged.merge(QuantileSketch.decode(p.encode()))
      for (const [q, exact] of Object.entries(set.quantiles)) {
        for (const s of [whole, merged]) {
          const v = s.quantile(Number(q)) as number
          expect(Math.abs(v - exact), `q=${q}: ${v} vs ${exact}`).toBeLessThanOrEqual(fx.relative_accuracy * exact)
        }
      }
    })
  }
})
