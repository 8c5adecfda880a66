import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dropSchemas, PG_TEST_URL, postgresReachable, type ServerProcess, spawnServer, uniqueSchema, withSchema } from '@inferlog/testkit'

// Two collectors over one PostgreSQL store, as in scale-out: a key revoked on one stops working on
// the other within the documented bound (the key cache, 2 s by default; 60 s at most during a
// store outage, which authenticator.test.ts covers with a fake clock).

const reachable = await postgresReachable()
const schema = uniqueSchema('keys')
const servers: ServerProcess[] = []

beforeAll(async () => {
  if (!reachable) return
  const store = withSchema(PG_TEST_URL, schema)
  servers.push(await spawnServer(['--store', store]))
  servers.push(await spawnServer(['--store', store]))
})
afterAll(async () => {
  for (const s of servers) {
    s.child.kill('SIGTERM')
    await s.exited
  }
  if (reachable) await dropSchemas([schema])
})

describe.skipIf(!reachable)('key revocation across collectors', () => {
  it('a key revoked on collector A answers 401 at once there and on collector B within the bound', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess]
    const created = await fetch(`${a.url}/v1/keys`, { method: 'POST', body: JSON.stringify({ project: 'shop', scopes: ['read'] }) })
    expect(created.status).toBe(201)
    const key = (await created.json()) as { id: string; key: string }
    const as = { authorization: `Bearer ${key.key}` }
    // Warm B's cache so it holds the key as valid when the revocation happens elsewhere.
    expect((await fetch(`${b.url}/v1/events`, { headers: as })).status).toBe(200)
    expect((await fetch(`${a.url}/v1/keys/${key.id}`, { method: 'DELETE' })).status).toBe(204)
    const revokedAt = Date.now()
    expect((await fetch(`${a.url}/v1/events`, { headers: as })).status).toBe(401)
    let status = 200
    while (status !== 401 && Date.now() - revokedAt < 60_000) {
      await new Promise((r) => setTimeout(r, 100))
      status = (await fetch(`${b.url}/v1/events`, { headers: as })).status
    }
    const tookMs = Date.now() - revokedAt
    console.log(`revoked key refused by the second collector after ${tookMs} ms`)
    expect(status).toBe(401)
    expect(tookMs).toBeLessThanOrEqual(60_000)
  })
})
