import { describe, expect, it } from 'vitest'
import { shadowOutputPath } from './compare-output.js'

describe('shadowOutputPath', () => {
  it('is the declared class or boolean label path, else the whole output', () => {
    expect(shadowOutputPath({ config: { labels: { label: { output: 'label', type: 'class' } } } })).toBe('label')
    expect(
      shadowOutputPath({ config: { labels: { r: { output: 'stars', type: 'rating' }, ok: { output: 'pred.ok', type: 'boolean' } } } }),
    ).toBe('pred.ok')
    expect(shadowOutputPath({ config: { labels: { r: { output: 'v', type: 'number' } } } })).toBe('')
    expect(shadowOutputPath({ config: {} })).toBe('')
    expect(shadowOutputPath(undefined)).toBe('')
  })
})
