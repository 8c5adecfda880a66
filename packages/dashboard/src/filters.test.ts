import { describe, expect, it } from 'vitest'
import { explorerSearch, filterObject, readExplorerQuery } from './filters.js'

describe('explorer URL state', () => {
  it('round-trips every filter, limit and cursor', () => {
    const search =
      '?model=churn&version=3.2.0&stage=shadow&status=error&from=2026-01-01&to=2026-02-01&session_id=s1&user_id=u1&arm=b&has_feedback=true&feedback=label&limit=20&cursor=abc'
    const s = readExplorerQuery(new URLSearchParams(search))
    expect(s.filters).toEqual({
      model: 'churn',
      version: '3.2.0',
      stage: 'shadow',
      status: 'error',
      from: '2026-01-01',
      to: '2026-02-01',
      session_id: 's1',
      user_id: 'u1',
      arm: 'b',
      has_feedback: 'true',
      feedback: 'label',
    })
    expect(s.limit).toBe(20)
    expect(s.cursor).toBe('abc')
    expect(readExplorerQuery(new URLSearchParams(explorerSearch(s)))).toEqual(s)
  })

  it('drops empty, unknown and out-of-range values', () => {
    const s = readExplorerQuery(new URLSearchParams('?model=&bogus=1&limit=5000&version=%20v1%20'))
    expect(s).toEqual({ filters: { version: 'v1' }, limit: undefined, cursor: undefined })
    expect(readExplorerQuery(new URLSearchParams('?limit=1.5')).limit).toBeUndefined()
    expect(readExplorerQuery(new URLSearchParams('?limit=abc')).limit).toBeUndefined()
  })

  it('writes a stable order and leaves the default limit out', () => {
    expect(explorerSearch({ filters: { status: 'ok', model: 'm' }, limit: 50, cursor: undefined })).toBe('?model=m&status=ok')
    expect(explorerSearch({ filters: {}, limit: undefined, cursor: undefined })).toBe('')
  })

  it('turns values into a FILTER object with a boolean has_feedback', () => {
    expect(filterObject({ model: 'm', has_feedback: 'false', arm: '' })).toEqual({ model: 'm', has_feedback: false })
  })
})
