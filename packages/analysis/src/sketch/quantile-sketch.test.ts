import { describe, expect, it } from 'vitest'
import { QuantileSketch } from './quantile-sketch.js'

function lcg(seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 48271) % 2147483647
    return s / 2147483647
  }
}

function exactLower(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] as number
}

describe('QuantileSketch', () => {
  it('answers quantiles within 1% of the exact order statistic', () => {
    const r = lcg(7)
    const s = new QuantileSketch()
    const xs: number[] = []
    for (let i = 0; i < 5000; i++) {
      const x = Math.exp(3 + 1.2 * (r() + r() + r() - 1.5))
      xs.push(x)
      s.add(x)
    }
    xs.sort((a, b) => a - b)
    for (const q of [0, 0.01, 0.5, 0.9, 0.99, 1]) {
      const exact = exactLower(xs, q)
      expect(Math.abs((s.quantile(q) as number) - exact)).toBeLessThanOrEqual(0.01 * exact)
    }
  })

  it('merges exactly: merged sketch equals the sketch of the union', () => {
    const r = lcg(3)
    const a = new QuantileSketch()
    const b = new QuantileSketch()
    const u = new QuantileSketch()
    for (let i = 0; i < 2000; i++) {
      const x = (r() - 0.2) * 1000
      const w = 1 + Math.floor(r() * 3)
      ;(i % 2 ? a : b).add(x, w)
      u.add(x, w)
    }
    a.merge(b)
    for (const q of [0, 0.1, 0.15, 0.5, 0.99, 1]) expect(a.quantile(q)).toBe(u.quantile(q))
    expect(a.count).toBe(u.count)
  })

  it('round-trips through the compact codec and the protobuf', () => {
    const r = lcg(11)
    const s = new QuantileSketch()
    for (let i = 0; i < 1000; i++) s.add(r() < 0.05 ? 0 : r() * 500, r() < 0.5 ? 1 : 1 / 0.3)
    s.add(-5)
    const back = QuantileSketch.decode(s.encode())
    const proto = QuantileSketch.fromProto(s.toProto())
    for (const q of [0, 0.02, 0.03, 0.5, 0.9, 0.99]) {
      expect(back.quantile(q)).toBe(s.quantile(q))
      // The protobuf carries no min/max, so its answer is the bin's value, not clamped: still within 1%.
      const v = s.quantile(q) as number
      expect(Math.abs((proto.quantile(q) as number) - v)).toBeLessThanOrEqual(0.0101 * Math.abs(v))
    }
    expect(back.count).toBeCloseTo(s.count, 9)
    expect(back.sum).toBe(s.sum)
    expect(QuantileSketch.decode(new QuantileSketch().encode()).quantile(0.5)).toBeNull()
  })
})
