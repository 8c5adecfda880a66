import { describe, expect, it } from 'vitest'
import { inferLabelConfig, toBooleanLabel, toClassLabel, valueAtPath } from './label-config.js'
import { labelContributionOf, predictionOf } from './prediction.js'

describe('inferLabelConfig', () => {
  it('follows the documented rules', () => {
    expect(inferLabelConfig('some long generated answer', 'rating', 4)).toEqual({ output: '', type: 'rating' })
    expect(inferLabelConfig('answer', 'thumbs', -1)).toEqual({ output: '', type: 'boolean' })
    expect(inferLabelConfig('answer', 'thumbs', 'up')).toEqual({ output: '', type: 'boolean' })
    expect(inferLabelConfig({ label: 'spam', score: 0.9 }, 'label', 'ham')).toEqual({ output: 'label', type: 'class' })
    expect(inferLabelConfig({ class: true, score: 0.9 }, 'truth', false)).toEqual({ output: 'class', type: 'boolean' })
    expect(inferLabelConfig(true, 'outcome', 'no')).toEqual({ output: '', type: 'boolean' })
    expect(inferLabelConfig('cat', 'label', 'dog')).toEqual({ output: '', type: 'class' })
    expect(inferLabelConfig(12.5, 'actual', 13)).toEqual({ output: '', type: 'number' })
    expect(inferLabelConfig({ value: 3.2 }, 'actual', '3.0')).toEqual({ output: 'value', type: 'number' })
    expect(inferLabelConfig('x'.repeat(300), 'helpfulness', true)).toEqual({ output: '', type: 'boolean' })
    expect(inferLabelConfig('x'.repeat(300), 'grade', 3)).toEqual({ output: '', type: 'rating' })
    expect(inferLabelConfig('x'.repeat(300), 'label', 'y')).toBeUndefined()
    expect(inferLabelConfig('cat', 'correction', 'dog')).toBeUndefined()
    expect(inferLabelConfig('a', 'preference', { chosen: 0, rejected: 1 })).toBeUndefined()
  })
})

describe('reading values', () => {
  it('reads paths, booleans and classes', () => {
    expect(valueAtPath({ a: { b: [1, { c: 'x' }] } }, 'a.b.1.c')).toBe('x')
    expect(valueAtPath({ a: 1 }, 'a.b')).toBeUndefined()
    expect(valueAtPath({ a: 1 }, '')).toEqual({ a: 1 })
    expect([1, -1, 0, 'UP', 'no', '👍', 'maybe'].map(toBooleanLabel)).toEqual([true, false, false, true, false, true, undefined])
    expect([true, 3, 'x', { label: 'y' }, null].map(toClassLabel)).toEqual(['true', '3', 'x', 'y', undefined])
  })

  it('finds the prediction and its confidence', () => {
    expect(predictionOf({ label: 'dog', scores: { cat: 0.2, dog: 0.8 } }, { output: 'label', type: 'class' })).toEqual({
      predicted: 'dog',
      confidence: 0.8,
    })
    expect(predictionOf({ label: 'dog', probabilities: [0.3, 0.7], labels: ['cat', 'dog'] }, { output: '', type: 'class' })).toEqual({
      predicted: 'dog',
      confidence: 0.7,
    })
    expect(predictionOf({ churn: false, score: 0.3 }, { output: 'churn', type: 'boolean' })).toEqual({ predicted: false, confidence: 0.7 })
    expect(predictionOf({ p: 0.8 }, { output: 'p', type: 'boolean' }, { threshold: 0.9 })).toEqual({
      predicted: false,
      confidence: 0.19999999999999996,
    })
    expect(predictionOf({ value: 4.5 }, { output: '', type: 'number' })).toEqual({ predicted: 4.5 })
    expect(predictionOf('text', { output: '', type: 'rating' })).toEqual({})
  })

  it('builds contributions, and none for a value of the wrong kind', () => {
    expect(labelContributionOf({ y: 2 }, 2.5, { output: 'y', type: 'number' }, 4)).toEqual({
      type: 'number',
      actual: 2.5,
      predicted: 2,
      weight: 4,
    })
    expect(labelContributionOf({ y: 2 }, 'abc', { output: 'y', type: 'number' })).toBeUndefined()
    expect(labelContributionOf('gen', 'down', { output: '', type: 'boolean' })).toEqual({ type: 'boolean', actual: false, weight: 1 })
  })
})
