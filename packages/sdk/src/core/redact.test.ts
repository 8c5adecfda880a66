import { describe, expect, it } from 'vitest'
import { createRedactor, luhnValid, redactString } from './redact.js'

const ALL = new Set(['email', 'phone', 'card'] as const)

describe('detectors', () => {
  it('replaces emails, phone numbers and Luhn-valid card numbers', () => {
    expect(redactString('write to jane.doe+x@mail.example.co.uk today', ALL)).toBe('write to [REDACTED:email] today')
    expect(redactString('card 4111 1111 1111 1111 exp 12/29', ALL)).toBe('card [REDACTED:card] exp 12/29')
    expect(redactString('card 4111-1111-1111-1111', ALL)).toBe('card [REDACTED:card]')
    expect(redactString('call +33 6 12 34 56 78 or (555) 123-4567', ALL)).toBe('call [REDACTED:phone] or [REDACTED:phone]')
    expect(redactString('call 555-123-4567.', ALL)).toBe('call [REDACTED:phone].')
  })

  it('leaves dates, short numbers, decimals and non-Luhn digit runs of card length alone', () => {
    for (const s of [
      'on 2026-11-26 at 18:59',
      'order 1234 costs 19.99',
      'pi is 3.14159265358979',
      'ts 2026-11-26T18:59:15.123Z',
      'host 192.168.100.200',
    ]) {
      expect(redactString(s, ALL)).toBe(s)
    }
    expect(luhnValid('4111111111111112')).toBe(false)
    expect(redactString('ref 4111111111111112', new Set(['card'] as const))).toBe('ref 4111111111111112')
  })
})

describe('redactor', () => {
  it('drops paths (with * wildcards) and scrubs payload strings without touching the original', () => {
    const r = createRedactor({ paths: ['input.ssn', 'input.messages.*.name', 'context.entities.email'] })!
    const original = {
      id: '4111111111111111',
      input: {
        ssn: '123-45-6789',
        messages: [
          { name: 'Jane', content: 'mail me at a@b.io' },
          { name: 'Bot', content: 'ok' },
        ],
      },
      output: 'done',
      context: { entities: { email: 'x@y.io', tier: 'gold' } },
      internals: { t: { dtype: 'uint8', shape: [3], data: '4111111111111111' }, note: 'ring 555-123-4567' },
    }
    const snapshot = JSON.stringify(original)
    const out = r.apply(original, 'event') as typeof original
    expect(JSON.stringify(original)).toBe(snapshot)
    expect(out.input).toEqual({ messages: [{ content: 'mail me at [REDACTED:email]' }, { content: 'ok' }] })
    expect(out.context.entities).toEqual({ tier: 'gold' })
    // Identifiers and tensor data are never scanned.
    expect(out.id).toBe('4111111111111111')
    expect(out.internals.t.data).toBe('4111111111111111')
    expect(out.internals.note).toBe('ring [REDACTED:phone]')
    expect(out.output).toBe('done')
  })

  it('returns the same object when nothing changes, and is off by default', () => {
    const r = createRedactor(true)!
    const rec = { input: { a: 'hello' }, output: 1 }
    expect(r.apply(rec, 'event')).toBe(rec)
    expect(createRedactor(undefined)).toBeUndefined()
    expect(createRedactor(false)).toBeUndefined()
  })

  it('scrubs feedback comments and values', () => {
    const r = createRedactor(['metadata.phone'])!
    const out = r.apply(
      { event_id: 'e', name: 'c', value: 'reach me: bob@corp.com', comment: 'x', metadata: { phone: '1', k: 2 } },
      'feedback',
    )
    expect(out).toEqual({ event_id: 'e', name: 'c', value: 'reach me: [REDACTED:email]', comment: 'x', metadata: { k: 2 } })
  })
})
