import { describe, expect, it } from 'vitest'
import type { Logger } from '../logging/logger.js'
import type { EventRecord, FeedbackRecord } from '../store/store.js'
import { ErasedGuard } from './erased-guard.js'

const event = (id: string, shadowOf: string | null = null) => ({ id, shadowOf }) as EventRecord
const feedback = (id: string, eventId: string) => ({ id, eventId }) as FeedbackRecord

function logger(lines: string[]): Logger {
  return { info: () => {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) }
}

describe('ErasedGuard', () => {
  it('names erased events, shadows of erased events and feedback about them', async () => {
    const erased = new Set(['event:e2', 'feedback:f9'])
    const guard = new ErasedGuard({
      tombstonesOf: async (kind, _project, ids) => ids.filter((id) => erased.has(`${kind}:${id}`)).map((id) => ({ id }) as never),
    })
    expect([...(await guard.events('p', [event('e1'), event('e2'), event('s1', 'e2')]))]).toEqual([1, 2])
    expect([...(await guard.feedback('p', [feedback('f1', 'e1'), feedback('f2', 'e2'), feedback('f9', 'e1')]))]).toEqual([1, 2])
  })

  it('lets items through when the store cannot be asked, warning at most once a minute', async () => {
    const lines: string[] = []
    let now = 1_000_000
    const guard = new ErasedGuard(
      {
        tombstonesOf: async () => {
          throw new Error('connect ECONNREFUSED 127.0.0.1:5432')
        },
      },
      { logger: logger(lines), now: () => now },
    )
    expect((await guard.events('p', [event('e1')])).size).toBe(0)
    expect((await guard.feedback('p', [feedback('f1', 'e1')])).size).toBe(0)
    now += 59_000
    expect((await guard.events('p', [event('e2')])).size).toBe(0)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/erasure check skipped.*ECONNREFUSED/)
    now += 2_000
    await guard.events('p', [event('e3')])
    expect(lines).toHaveLength(2)
  })
})
