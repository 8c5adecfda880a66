import { describe, expect, it } from 'vitest'
import { DEFAULT_FEEDBACK_POLICY, planFeedback } from './feedback-plan.js'
import { SeededRandom } from './seeded-random.js'

function plans(seed: number, n: number, speed = 1, predicted: 'rain' | 'sun' = 'rain') {
  const rng = new SeededRandom(seed)
  return Array.from({ length: n }, () => planFeedback(rng, { predicted, observed: 'rain', userId: 'u1', speed }))
}

describe('planFeedback', () => {
  it('is the same for the same seed', () => {
    expect(plans(5, 200)).toEqual(plans(5, 200))
    expect(plans(5, 200)).not.toEqual(plans(6, 200))
  })

  it('labels about 70% of predictions seconds to minutes later, thumbs about 25% within seconds', () => {
    const all = plans(1, 4000)
    const labels = all.flatMap((p) => p.filter((f) => f.name === 'label'))
    const thumbs = all.flatMap((p) => p.filter((f) => f.name === 'thumbs'))
    expect(labels.length / 4000).toBeGreaterThan(0.66)
    expect(labels.length / 4000).toBeLessThan(0.74)
    expect(thumbs.length / 4000).toBeGreaterThan(0.22)
    expect(thumbs.length / 4000).toBeLessThan(0.28)
    const p = DEFAULT_FEEDBACK_POLICY
    for (const l of labels) {
      expect(l.delayMs).toBeGreaterThanOrEqual(p.labelMinMs)
      expect(l.delayMs).toBeLessThanOrEqual(p.labelMaxMs)
      expect(l.value).toBe('rain')
      expect(l.source).toEqual({ type: 'system', id: 'weather-station' })
    }
    expect(labels.some((l) => l.delayMs > 30_000)).toBe(true)
    for (const t of thumbs) {
      expect(t.delayMs).toBeGreaterThanOrEqual(p.thumbsMinMs)
      expect(t.delayMs).toBeLessThan(p.thumbsMaxMs)
      expect(t.source).toEqual({ type: 'user', id: 'u1' })
    }
  })

  it('thumbs say whether the prediction was right, with 10% misclicks', () => {
    const up = (predicted: 'rain' | 'sun') =>
      plans(3, 4000, 1, predicted)
        .flatMap((p) => p.filter((f) => f.name === 'thumbs'))
        .map((f) => f.value)
    const right = up('rain')
    const wrong = up('sun')
    const share = (v: (string | number)[]) => v.filter((x) => x === 1).length / v.length
    expect(share(right)).toBeGreaterThan(0.85)
    expect(share(wrong)).toBeLessThan(0.15)
  })

  it('divides every delay by the speed', () => {
    const slow = plans(9, 100, 1).flat()
    const fast = plans(9, 100, 4).flat()
    expect(fast.map((f) => f.delayMs * 4)).toEqual(slow.map((f) => f.delayMs))
  })
})
