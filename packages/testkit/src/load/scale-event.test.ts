import { describe, expect, it } from 'vitest'
import { makeEvent, makeEventLine } from './scale-event.js'

describe('makeEventLine', () => {
  it('is JSON.stringify(makeEvent(id, n)) byte for byte', () => {
    for (const n of [0, 1, 2, 3, 96, 97, 999, 1000, 4999, 5000, 19_999, 20_000, 123_456, 1_999_999]) {
      expect(makeEventLine(`run-${n}`, n)).toBe(JSON.stringify(makeEvent(`run-${n}`, n)))
    }
  })
})
