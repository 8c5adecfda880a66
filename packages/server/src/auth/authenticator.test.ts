import { describe, expect, it } from 'vitest'
import type { ApiKeyRecord, Store } from '../store/store.js'
import { hashApiKey } from './api-keys.js'
import { Authenticator } from './authenticator.js'

/** A key table that can be made to fail, standing in for a database that is restarting. */
function keyTable(keys: ApiKeyRecord[]) {
  const state = { down: false, lookups: 0 }
  const store = {
    findApiKeyByHash: async (h: string) => {
      state.lookups++
      if (state.down) throw new Error('connection refused')
      return keys.find((k) => k.hash === h)
    },
  } as unknown as Store
  return { store, state }
}

const record = (over: Partial<ApiKeyRecord> & { key: string }): ApiKeyRecord => {
  const { key, ...rest } = over
  return {
    id: 'k1',
    project: 'p',
    name: 'n',
    hash: hashApiKey(key),
    scopes: ['ingest'],
    createdMs: 0,
    revokedMs: null,
    expiresMs: null,
    ...rest,
  }
}
const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

describe('Authenticator during a store outage', () => {
  it('keeps serving keys checked within staleMs, refuses unknown ones with 503, and gives up after staleMs', async () => {
    let now = 1_000
    const key = 'il_k1_secret'
    const { store, state } = keyTable([record({ key })])
    const auth = new Authenticator(store, { cacheMs: 100, staleMs: 60_000, now: () => now })
    expect(await auth.authenticate(bearer(key), 'ingest')).toMatchObject({ project: 'p', keyId: 'k1' })
    state.down = true
    now += 59_000
    expect(await auth.authenticate(bearer(key), 'ingest')).toMatchObject({ project: 'p' })
    await expect(auth.authenticate(bearer('il_other_x'), 'ingest')).rejects.toMatchObject({ code: 'unavailable', status: 503 })
    now += 2_000
    await expect(auth.authenticate(bearer(key), 'ingest')).rejects.toMatchObject({ code: 'unavailable' })
    state.down = false
    expect(await auth.authenticate(bearer(key), 'ingest')).toMatchObject({ project: 'p' })
  })

  it('defaults to a 60 s stale bound, so a key revoked elsewhere during an outage stops within it', async () => {
    let now = 0
    const key = 'il_k1_secret'
    const keys = [record({ key })]
    const { store, state } = keyTable(keys)
    const auth = new Authenticator(store, { now: () => now })
    await auth.authenticate(bearer(key), 'ingest')
    keys[0] = { ...keys[0]!, revokedMs: 1 } // revoked on another collector, then the store goes down
    state.down = true
    now = 60_000
    expect(await auth.authenticate(bearer(key), 'ingest')).toMatchObject({ keyId: 'k1' })
    now = 60_001
    await expect(auth.authenticate(bearer(key), 'ingest')).rejects.toMatchObject({ code: 'unavailable' })
    state.down = false
    await expect(auth.authenticate(bearer(key), 'ingest')).rejects.toMatchObject({ code: 'unauthorized', status: 401 })
  })
})

describe('Authenticator modes', () => {
  it('without open mode, a keyless request is a 401 and never reaches the store', async () => {
    const { store, state } = keyTable([])
    const auth = new Authenticator(store)
    await expect(auth.authenticate({}, 'read')).rejects.toMatchObject({ code: 'unauthorized', status: 401 })
    expect(state.lookups).toBe(0)
  })

  it('in open mode a keyless request is the operator on the named or default project', async () => {
    const { store } = keyTable([])
    const auth = new Authenticator(store, { open: true })
    expect(await auth.authenticate({}, 'admin')).toEqual({
      project: 'default',
      scopes: ['ingest', 'read', 'admin'],
      keyId: null,
      via: 'open',
    })
    expect(await auth.authenticate({ project: 'shop' }, 'read')).toMatchObject({ project: 'shop' })
    await expect(auth.authenticate({ project: '../etc' }, 'read')).rejects.toMatchObject({ code: 'invalid_parameter' })
  })

  it('checks a presented key in open mode too: unknown, revoked and expired keys are 401', async () => {
    let now = 10
    const good = 'il_good_x'
    const revoked = 'il_rev_x'
    const expiring = 'il_exp_x'
    const { store } = keyTable([
      record({ key: good, id: 'g' }),
      record({ key: revoked, id: 'r', revokedMs: 5 }),
      record({ key: expiring, id: 'e', expiresMs: 1_000 }),
    ])
    const auth = new Authenticator(store, { open: true, cacheMs: 0, now: () => now })
    expect(await auth.authenticate(bearer(good), 'ingest')).toMatchObject({ keyId: 'g' })
    await expect(auth.authenticate(bearer('il_nope_x'), 'ingest')).rejects.toMatchObject({ code: 'unauthorized' })
    await expect(auth.authenticate({ apiKey: revoked }, 'ingest')).rejects.toMatchObject({
      code: 'unauthorized',
      message: expect.stringContaining('revoked'),
    })
    expect(await auth.authenticate(bearer(expiring), 'ingest')).toMatchObject({ keyId: 'e' })
    now = 1_000
    await expect(auth.authenticate(bearer(expiring), 'ingest')).rejects.toMatchObject({
      code: 'unauthorized',
      message: expect.stringContaining('expired'),
    })
    await expect(auth.authenticate({ authorization: 'Basic abc' }, 'ingest')).rejects.toMatchObject({ code: 'unauthorized' })
  })

  it('a key reaches only its own project and scopes', async () => {
    const key = 'il_k1_secret'
    const { store } = keyTable([record({ key, scopes: ['ingest'] })])
    const auth = new Authenticator(store, { open: true })
    await expect(auth.authenticate({ ...bearer(key), project: 'other' }, 'ingest')).rejects.toMatchObject({ code: 'forbidden' })
    await expect(auth.authenticate(bearer(key), 'read')).rejects.toMatchObject({ code: 'forbidden' })
  })
})
