import { describe, expect, it } from 'vitest'
import { hashApiKey } from './api-keys.js'
import { Authenticator } from './authenticator.js'
import type { ApiKeyRecord, Store } from '../store/store.js'

/** A key table that can be made to fail, standing in for a database that is restarting. */
function keyTable(keys: ApiKeyRecord[]) {
  const state = { down: false }
  const guard = () => {
    if (state.down) throw new Error('connection refused')
  }
  const store = {
    countActiveApiKeys: async () => (guard(), keys.filter((k) => k.revokedMs === null).length),
    findApiKeyByHash: async (h: string) => (guard(), keys.find((k) => k.hash === h)),
  } as unknown as Store
  return { store, state }
}

describe('Authenticator during a store outage', () => {
  it('keeps serving recently checked keys, refuses unknown ones with 503, and gives up after staleMs', async () => {
    let now = 1_000
    const key = 'il_k1_secret'
    const { store, state } = keyTable([
      { id: 'k1', project: 'p', name: 'n', hash: hashApiKey(key), scopes: ['ingest'], createdMs: 0, revokedMs: null },
    ])
    const auth = new Authenticator(store, { cacheMs: 100, staleMs: 10_000, now: () => now })
    expect(await auth.authenticate({ authorization: `Bearer ${key}` }, 'ingest')).toMatchObject({ project: 'p' })
    state.down = true
    now += 5_000
    expect(await auth.authenticate({ authorization: `Bearer ${key}` }, 'ingest')).toMatchObject({ project: 'p' })
    await expect(auth.authenticate({ authorization: 'Bearer il_other_x' }, 'ingest')).rejects.toMatchObject({ code: 'unavailable' })
    now += 10_000
    await expect(auth.authenticate({ authorization: `Bearer ${key}` }, 'ingest')).rejects.toMatchObject({ code: 'unavailable' })
    state.down = false
    expect(await auth.authenticate({ authorization: `Bearer ${key}` }, 'ingest')).toMatchObject({ project: 'p' })
  })

  it('never lets a request in as open mode when it never knew the answer', async () => {
    const { store, state } = keyTable([])
    state.down = true
    const auth = new Authenticator(store)
    await expect(auth.authenticate({}, 'read')).rejects.toMatchObject({ code: 'unavailable', status: 503 })
  })
})
