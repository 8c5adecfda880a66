import { describe, expect, it } from 'vitest'
import { MemoryBudget } from './memory-budget.js'

describe('MemoryHold.reserve', () => {
  it('takes the bytes at once, refuses past the budget without taking them, and lets add use them first', () => {
    const budget = new MemoryBudget(1000)
    const a = budget.hold()
    a.reserve(600)
    expect(budget.inUse).toBe(600)
    expect(a.unused).toBe(600)
    const b = budget.hold()
    expect(() => b.reserve(500)).toThrow(expect.objectContaining({ code: 'overloaded' }))
    expect(budget.inUse).toBe(600)
    expect(b.bytes).toBe(0)
    // add is served by the reservation first, then by the budget.
    a.add(400)
    expect(budget.inUse).toBe(600)
    expect(a.unused).toBe(200)
    a.add(300)
    expect(budget.inUse).toBe(700)
    expect(a.unused).toBe(0)
    expect(a.bytes).toBe(700)
    a.release()
    expect(budget.inUse).toBe(0)
  })

  it('keeps the reservation when an add past it is refused', () => {
    const budget = new MemoryBudget(1000)
    const other = budget.hold()
    other.add(500)
    const a = budget.hold()
    a.reserve(400)
    expect(() => a.add(600)).toThrow(expect.objectContaining({ code: 'overloaded' }))
    expect(a.unused).toBe(400)
    expect(budget.inUse).toBe(900)
    other.release()
    a.release()
    expect(budget.inUse).toBe(0)
  })

  it('lets a request alone reserve more than the whole budget', () => {
    const budget = new MemoryBudget(100)
    const a = budget.hold()
    a.reserve(1000)
    expect(budget.inUse).toBe(1000)
    a.release()
    a.reserve(10)
    expect(budget.inUse).toBe(0)
  })
})
