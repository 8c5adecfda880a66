import { describe, expect, it } from 'vitest'
import { labelChoices, labelValue } from './review-page.js'

describe('review labels', () => {
  it('offers true/false for a boolean label, else the predicted value', () => {
    expect(labelChoices('boolean', ['x'])).toEqual(['true', 'false'])
    expect(labelChoices('class', ['spam', 'spam', { a: 1 }, null])).toEqual(['spam'])
    expect(
      labelChoices(
        undefined,
        Array.from({ length: 20 }, (_, i) => i),
      ),
    ).toHaveLength(9)
  })

  it('types what was typed: JSON literals as such, anything else as text', () => {
    expect(labelValue('true')).toBe(true)
    expect(labelValue(' 3.5 ')).toBe(3.5)
    expect(labelValue('-2e3')).toBe(-2000)
    expect(labelValue('spam')).toBe('spam')
    expect(labelValue('{"a":1}')).toBe('{"a":1}')
  })
})
