import { describe, expect, it } from 'vitest'
import { chatMessages, tabularRecord, tabularRows, valueKind } from './render-value.js'

describe('value kinds', () => {
  it('sees chat messages bare or under messages', () => {
    const msgs = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
    ]
    expect(valueKind(msgs)).toBe('chat')
    expect(chatMessages({ messages: msgs, model: 'x' })).toHaveLength(2)
    expect(valueKind([{ role: 'user' }])).not.toBe('chat')
    expect(chatMessages({ role: 'assistant', content: 'hi' })).toEqual([{ role: 'assistant', content: 'hi' }])
    expect(valueKind([])).toBe('json')
  })

  it('sees features as a record and rows as a table', () => {
    expect(valueKind({ age: 40, plan: 'pro', churned: false, note: null })).toBe('record')
    expect(valueKind({ age: 40, nested: { a: 1 } })).toBe('json')
    expect(tabularRows([{ a: 1 }, { a: 2, b: 'x' }])?.columns).toEqual(['a', 'b'])
    expect(tabularRecord(Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`k${i}`, i])))).toBeUndefined()
  })

  it('sees text and scalars', () => {
    expect(valueKind('hello')).toBe('text')
    expect(valueKind(3)).toBe('scalar')
    expect(valueKind(null)).toBe('scalar')
  })
})
