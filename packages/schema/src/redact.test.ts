import { describe, expect, it } from 'vitest'
import { redactString } from './redact.js'

// The pattern the linear scan must agree with, match for match.
const EMAIL_REGEX = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g
const emailOnly = new Set(['email'] as const)

describe('email detector', () => {
  it('replaces exactly what the email regex matches, on random strings', () => {
    const alphabet = ['a', 'B', '7', '.', '@', '-', '_', '%', '+', ' ', 'com', 'x@y.io', '@@', '..', 'é', '\n']
    let seed = 12345
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    for (let k = 0; k < 20_000; k++) {
      let s = ''
      const len = 6 + rand(40)
      for (let i = 0; i < len; i++) s += alphabet[rand(alphabet.length)]
      const expected = s.length < 6 || !s.includes('@') ? s : s.replace(EMAIL_REGEX, '[REDACTED:email]')
      expect(redactString(s, emailOnly), JSON.stringify(s)).toBe(expected)
    }
  })
})
