/**
 * The audit chain's behaviour on one store adapter: sealing, administrative records, tombstones.
 * Call `describeAuditConformance('name', makeStore)` from an adapter's test file.
 */
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FeedRunner } from '../feed/feed-runner.js'
import { eventRecord, feedbackRecord } from '../store/store-conformance.test-suite.js'
import type { LoggedEvent, Store } from '../store/store.js'
import { AuditChainConsumer, batchLeaves, sealedHead } from './audit-chain-consumer.js'
import { appendAuditRecord } from './audit-records.js'
import { LeafHasher, leafHashHex } from './leaf-hash.js'
import { chainHead, GENESIS_HEAD, merkleRoot, sortLeaves } from './merkle.js'
import crypto from 'node:crypto'
import { AuditCheckpointer } from './audit-checkpointer.js'
import { checkProof } from './check-proof.js'
import { buildInclusionProof } from './inclusion-proof.js'
import { verifyChain } from './verify-chain.js'
import { createApiKey, revokeApiKey } from '../auth/api-keys.js'

/** Seals every committed batch (in steps of three batches, to cross step boundaries). */
export const sealAll = (store: Store) => new FeedRunner(store, [new AuditChainConsumer(store)], { maxBatches: 3 }).catchUp()

export async function sealedRoots(s: Store) {
  const rows = await s.derived.db.selectFrom('audit_batches').selectAll().orderBy('n').execute()
  return rows.map((r) => ({
    n: Number(r.n),
    position: Number(r.position),
    leaves: Number(r.leaves),
    root: Buffer.from(r.root).toString('hex'),
    head: Buffer.from(r.head).toString('hex'),
  }))
}

/** The chain recomputed from the rows as they are now (tombstones in place of erased rows). */
export async function recompute(s: Store) {
  const hasher = new LeafHasher()
  const out: { position: number; root: string; head: string }[] = []
  let head = GENESIS_HEAD
  let n = 0
  for (const b of await s.readBatches(0, { maxBatches: 1000 })) {
    const leaves = batchLeaves(b, await s.tombstonesIn(b.position - 1, b.position), hasher)
    const root = merkleRoot(leaves)
    head = chainHead(head, { index: ++n, position: b.position, committedMs: b.committedMs, leaves: leaves.length, root })
    out.push({ position: b.position, root: root.toString('hex'), head: head.toString('hex') })
  }
  return out
}

export const tombstone = (e: LoggedEvent) => ({
  kind: 'event' as const,
  project: e.project,
  id: e.id,
  batch: e.batch,
  leaf: leafHashHex('event', e),
})
/** Every audit test for one adapter. */
export function describeAuditConformance(name: string, makeStore: () => Promise<Store>): void {
  describe(`audit chain: ${name}`, () => {
    let store: Store
    beforeEach(async () => {
      store = await makeStore()
      await store.migrate()
    })
    afterEach(async () => {
      await store.close()
    })
    const seal = () => sealAll(store)
    const deleteEvent = (id: string) => store.derived.db.deleteFrom('events').where('project', '=', 'p1').where('id', '=', id).compile()

    it('seals every batch in commit order, administrative records included', async () => {
      for (let i = 0; i < 7; i++) {
        await store.writeBatch({
          events: [eventRecord({ id: `e${i}` }), eventRecord({ id: `x${i}` })],
          feedback: [feedbackRecord({ id: `f${i}`, eventId: `e${i}` })],
        })
      }
      await store.writeBatch({ events: [eventRecord({ id: 'e1' })], feedback: [] }) // all duplicates: an empty batch, sealed too
      const rec = await appendAuditRecord(store, {
        project: 'p1',
        type: 'key_created',
        actor: { key_id: null, name: 'operator' },
        details: { scopes: ['read'] },
      })
      await seal()
      const head = await store.commitHead()
      expect(head).toBe(9)
      expect(await store.derived.watermark('audit')).toBe(head)
      const sealed = await sealedRoots(store)
      expect(sealed.map((r) => r.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
      expect(sealed.map((r) => r.leaves)).toEqual([3, 3, 3, 3, 3, 3, 3, 0, 1])
      expect(sealed.map(({ position, root, head }) => ({ position, root, head }))).toEqual(await recompute(store))
      expect((await sealedHead(store.derived))?.rowsTotal).toBe(22)
      const [stored] = await store.auditRecords('p1')
      expect(stored).toMatchObject({ id: rec.id, batch: 9, tsMs: rec.tsMs })
      expect(JSON.parse(stored!.body)).toMatchObject({
        type: 'key_created',
        actor: { key_id: null, name: 'operator' },
        details: { scopes: ['read'] },
      })
    })

    it('keeps a batch verifying after erasure, whether the row was sealed before or after it went', async () => {
      await store.writeBatch({ events: [eventRecord({ id: 'a' }), eventRecord({ id: 'b' })], feedback: [] })
      await seal()
      const before = await sealedRoots(store)
      await store.writeBatch({ events: [eventRecord({ id: 'c' }), eventRecord({ id: 'd' })], feedback: [] })
      const rows = await store.eventsByIds('p1', ['a', 'c'])
      const expectedSecond = merkleRoot(
        sortLeaves(await Promise.all((await store.readBatches(1))[0]!.events.map((e) => new LeafHasher().hash('event', e)))),
      )
      // Erase a (sealed) and c (not sealed yet): tombstones, deletes and the record in one batch.
      const rec = await appendAuditRecord(store, {
        project: 'p1',
        type: 'erasure',
        actor: { key_id: 'k1' },
        reason: 'GDPR request 42',
        counts: { events: 2 },
        tombstones: rows.map(tombstone),
        writes: [deleteEvent('a'), deleteEvent('c')],
      })
      expect(await store.eventsByIds('p1', ['a', 'b', 'c', 'd'])).toHaveLength(2)
      expect((rec.body.tombstones as { count: number }).count).toBe(2)
      await seal()
      const after = await sealedRoots(store)
      expect(after[0]).toEqual(before[0])
      expect(after[1]!.root).toBe(expectedSecond.toString('hex'))
      expect(after.map(({ position, root, head }) => ({ position, root, head }))).toEqual(await recompute(store))
      expect((await store.tombstonesOf('event', 'p1', ['a', 'b', 'c'])).map((t) => [t.id, t.batch, t.record]).sort()).toEqual([
        ['a', 1, rec.id],
        ['c', 2, rec.id],
      ])
    })

    it('refuses a second tombstone for a row and commits nothing of that record', async () => {
      await store.writeBatch({ events: [eventRecord({ id: 'a' })], feedback: [] })
      const [a] = await store.eventsByIds('p1', ['a'])
      await appendAuditRecord(store, { project: 'p1', type: 'erasure', actor: { key_id: null }, tombstones: [tombstone(a!)] })
      const head = await store.commitHead()
      await expect(
        appendAuditRecord(store, {
          project: 'p1',
          type: 'erasure',
          actor: { key_id: null },
          tombstones: [tombstone(a!)],
          writes: [deleteEvent('a')],
        }),
      ).rejects.toThrow()
      expect(await store.commitHead()).toBe(head)
      expect(await store.eventsByIds('p1', ['a'])).toHaveLength(1)
      expect(await store.auditRecords('p1')).toHaveLength(1)
    })

    it('refuses malformed tombstones before touching the store', async () => {
      const t = { kind: 'event' as const, project: 'p1', id: 'a', batch: 1, leaf: 'ab'.repeat(32) }
      for (const bad of [
        { ...t, leaf: 'xyz' },
        { ...t, batch: 0 },
        { ...t, kind: 'audit' as 'event' },
      ]) {
        await expect(
          appendAuditRecord(store, { project: 'p1', type: 'erasure', actor: { key_id: null }, tombstones: [bad] }),
        ).rejects.toMatchObject({
          code: 'invalid_parameter',
        })
      }
      await expect(
        appendAuditRecord(store, { project: 'p1', type: 'erasure', actor: { key_id: null }, tombstones: [t, t] }),
      ).rejects.toMatchObject({
        code: 'invalid_parameter',
      })
      expect(await store.commitHead()).toBe(0)
    })

    it('chains the creation and revocation of API keys (never the key)', async () => {
      const { key, record } = await createApiKey(store, {
        project: 'p1',
        scopes: ['read'],
        name: 'ci',
        actor: { key_id: 'adm1', name: 'admin key' },
      })
      expect(await revokeApiKey(store, record, { actor: { key_id: null, name: 'operator' } })).toBe(true)
      expect(await revokeApiKey(store, { ...record, revokedMs: 1 })).toBe(false) // already revoked: no second record
      const recs = (await store.auditRecords('p1')).map((r) => JSON.parse(r.body) as Record<string, unknown>)
      expect(recs.map((r) => r.type)).toEqual(['key_revoked', 'key_created'])
      expect(recs[1]).toMatchObject({
        actor: { key_id: 'adm1' },
        details: { key_id: record.id, name: 'ci', scopes: ['read'], expires_at: null },
      })
      expect(recs[0]).toMatchObject({ actor: { key_id: null }, details: { key_id: record.id } })
      expect(JSON.stringify(recs)).not.toContain(key)
      await seal()
      expect(await verifyChain(store)).toMatchObject({ ok: true, batches: 2, rows: 2 })
    })

    describe('verify and tampering', () => {
      /** Six batches of events and feedback, an erasure with its tombstone, all sealed. */
      async function history() {
        for (let i = 1; i <= 6; i++) {
          await store.writeBatch({
            events: [eventRecord({ id: `e${i}` }), eventRecord({ id: `x${i}` })],
            feedback: [feedbackRecord({ id: `f${i}`, eventId: `e${i}` })],
          })
        }
        const [x1] = await store.eventsByIds('p1', ['x1'])
        await appendAuditRecord(store, {
          project: 'p1',
          type: 'erasure',
          actor: { key_id: null },
          tombstones: [tombstone(x1!)],
          writes: [deleteEvent('x1')],
        })
        await seal()
        const v = await verifyChain(store)
        expect(v).toMatchObject({ ok: true, batches: 7, rows: 19, errors: [], sealed_to: 7, head: 7 })
      }
      const run = (text: string) => sql.raw(text).execute(store.derived.db)
      const pg = () => store.derived.dialect === 'postgres'
      /** The number rows of the batch at `position` carry in their `batch` column. */
      const internal = async (position: number) =>
        pg() ? Number(((await run(`SELECT seq FROM batches WHERE commit_seq = ${position}`)).rows[0] as { seq: number }).seq) : position

      it('passes on an untouched store, erasures included, and over a range', async () => {
        await history()
        expect(await verifyChain(store, { from: 3, to: 5 })).toMatchObject({ ok: true, batches: 3, rows: 9 })
        // Batches committed after sealing are reported as the head, not as problems.
        await store.writeBatch({ events: [eventRecord({ id: 'late' })], feedback: [] })
        expect(await verifyChain(store)).toMatchObject({ ok: true, batches: 7, sealed_to: 7, head: 8 })
      })

      it('names the batch and row of a stored row edited in place', async () => {
        await history()
        await run(`UPDATE events SET body = replace(body, '"output":1', '"output":2') WHERE id = 'e3'`)
        const v = await verifyChain(store)
        expect(v.ok).toBe(false)
        expect(v.first_error).toMatchObject({ code: 'row_mismatch', batch: 3, row: { kind: 'event', project: 'p1', id: 'e3' } })
        // An indexed column too, and feedback.
        await run(`UPDATE events SET body = replace(body, '"output":2', '"output":1') WHERE id = 'e3'`)
        await run(`UPDATE feedback SET received_ms = received_ms + 1 WHERE id = 'f2'`)
        expect((await verifyChain(store)).first_error).toMatchObject({
          code: 'row_mismatch',
          batch: 2,
          row: { kind: 'feedback', id: 'f2' },
        })
      })

      it('names the batch of a deleted row and its leaf', async () => {
        await history()
        await run(`DELETE FROM events WHERE id = 'x4'`)
        const v = await verifyChain(store)
        expect(v.first_error).toMatchObject({ code: 'row_missing', batch: 4 })
        expect(v.first_error?.leaf).toMatch(/^[0-9a-f]{64}$/)
      })

      it('names a forged row inserted into a sealed batch', async () => {
        await history()
        const b = await internal(2)
        const seq = pg() ? `nextval('events_seq')` : '(SELECT max(seq) + 1 FROM events)'
        await run(`INSERT INTO events (seq, project, id, ts_ms, received_ms, model, version, stage, status, batch, body)
                 VALUES (${seq}, 'p1', 'forged', 1, 1, 'm', '1', 'primary', 'ok', ${b}, '{"id":"forged"}')`)
        const v = await verifyChain(store)
        expect(v.ok).toBe(false)
        expect(v.first_error).toMatchObject({ batch: 2, row: { kind: 'event', id: 'forged' } })
        expect(['row_stray', 'row_mismatch']).toContain(v.first_error?.code)
      })

      it('names the first of two batches whose rows were swapped', async () => {
        await history()
        const [b2, b3] = [await internal(2), await internal(3)]
        for (const t of ['events', 'feedback'])
          await run(`UPDATE ${t} SET batch = CASE batch WHEN ${b2} THEN ${b3} ELSE ${b2} END WHERE batch IN (${b2}, ${b3})`)
        const v = await verifyChain(store)
        expect(v.ok).toBe(false)
        expect(v.first_error?.batch).toBe(2)
      })

      it('detects a rewritten chain row, a removed batch and a forged tombstone', async () => {
        await history()
        await run(`UPDATE audit_batches SET committed_ms = committed_ms + 1 WHERE position = 5`)
        expect((await verifyChain(store)).first_error).toMatchObject({ code: 'chain_broken', batch: 5 })
        await run(`UPDATE audit_batches SET committed_ms = committed_ms - 1 WHERE position = 5`)
        expect((await verifyChain(store)).ok).toBe(true)
        await run(`DELETE FROM batches WHERE seq = ${await internal(6)}`)
        const v = await verifyChain(store)
        expect(v.first_error?.batch).toBe(6)
        expect(v.errors.map((e) => e.code)).toContain('batch_missing')
      })

      it('refuses a tombstone added to hide a deletion', async () => {
        await history()
        const [e5] = await store.eventsByIds('p1', ['e5'])
        const [rec] = await store.auditRecords('p1')
        await run(`DELETE FROM events WHERE id = 'e5'`)
        await run(
          `INSERT INTO audit_tombstones (kind, project, id, batch, leaf, record) VALUES ('event', 'p1', 'e5', 5, '${tombstone(e5!).leaf}', '${rec!.id}')`,
        )
        const v = await verifyChain(store)
        expect(v.ok).toBe(false)
        expect(v.errors.map((e) => e.code)).toContain('tombstones_mismatch')
      })

      it('says a store without a chain has none', async () => {
        await store.writeBatch({ events: [eventRecord({ id: 'a' })], feedback: [] })
        const v = await verifyChain(store)
        expect(v).toMatchObject({ ok: false, first_error: { code: 'no_chain' } })
        // An empty store has nothing to prove.
        const empty = await makeStore()
        await empty.migrate()
        expect((await verifyChain(empty)).ok).toBe(true)
        await empty.close()
      })
    })

    describe('checkpoints and inclusion proofs', () => {
      const key = crypto.generateKeyPairSync('ed25519')
      const other = crypto.generateKeyPairSync('ed25519')

      it('signs the sealed head, proves an event into it, and verify checks the signatures', async () => {
        const cp = new AuditCheckpointer(store.derived, { key: key.privateKey })
        expect(await cp.step()).toBeUndefined() // nothing sealed yet
        for (let i = 1; i <= 5; i++)
          await store.writeBatch({ events: Array.from({ length: i * 3 }, (_, k) => eventRecord({ id: `b${i}-${k}` })), feedback: [] })
        await seal()
        const first = await cp.step()
        expect(first).toMatchObject({ batch: 5, index: 5, rows: 45 })
        expect(await cp.step()).toBeUndefined() // the head did not move
        await store.writeBatch({ events: [eventRecord({ id: 'late' })], feedback: [] })
        await seal()

        // Before the next checkpoint: a proof up to the sealed head, with the checkpoint that covers its batch.
        const p2 = await buildInclusionProof(store, 'p1', 'b2-4')
        expect(p2).toMatchObject({ batch: { position: 2, leaves: 6 }, checkpoint: { index: 5 } })
        expect(p2.chain.map((l) => l.index)).toEqual([3, 4, 5])
        expect(checkProof(p2, [key.publicKey])).toEqual({ ok: true, checkpoint: 'verified', event_id: 'b2-4', batch: 2 })
        expect(checkProof(p2)).toMatchObject({ ok: true, checkpoint: 'unchecked' })
        expect(checkProof(p2, [other.publicKey])).toMatchObject({ ok: false, error: expect.stringMatching(/unknown key/) })
        const late = await buildInclusionProof(store, 'p1', 'late')
        expect(late.checkpoint).toBeNull()
        expect(checkProof(late)).toMatchObject({ ok: true, checkpoint: 'none' })
        expect(checkProof(late, [key.publicKey])).toMatchObject({ ok: false })
        await cp.stop()
        const covered = await buildInclusionProof(store, 'p1', 'late')
        expect(covered).toMatchObject({ checkpoint: { index: 6, batch: 6 }, chain: [] })
        expect(checkProof(covered, [key.publicKey])).toMatchObject({ ok: true, checkpoint: 'verified' })

        // Any change to the proof is caught.
        const tampered = (f: (p: typeof p2) => void) => {
          const c = structuredClone(p2)
          f(c)
          return checkProof(c, [key.publicKey]).ok
        }
        expect(tampered((p) => (p.leaf_input.body = p.leaf_input.body.replace('"output":1', '"output":2')))).toBe(false)
        expect(tampered((p) => (p.batch.leaf_index += 1))).toBe(false)
        expect(tampered((p) => p.batch.path.reverse())).toBe(false)
        expect(tampered((p) => (p.chain[1]!.root = p.chain[0]!.root))).toBe(false)
        expect(tampered((p) => p.chain.splice(1, 1))).toBe(false)
        expect(tampered((p) => (p.checkpoint!.rows += 1))).toBe(false)
        expect(tampered((p) => (p.checkpoint!.signature = Buffer.alloc(64).toString('base64')))).toBe(false)
        expect(checkProof({ format: 'nope' }).ok).toBe(false)
        expect(checkProof(null).ok).toBe(false)

        expect(await verifyChain(store, { keys: [key.publicKey] })).toMatchObject({
          ok: true,
          checkpoints: { checked: 2, signatures: 'checked' },
        })
        expect(await verifyChain(store)).toMatchObject({ ok: true, checkpoints: { checked: 2, signatures: 'unchecked' } })
        const unknown = await verifyChain(store, { keys: [other.publicKey] })
        expect(unknown).toMatchObject({ ok: false, first_error: { code: 'unknown_key', batch: 5 } })
      })

      it('answers not found, not sealed yet, erased, and a tampered event', async () => {
        await expect(buildInclusionProof(store, 'p1', 'nope')).rejects.toMatchObject({ code: 'not_found', status: 404 })
        await store.writeBatch({ events: [eventRecord({ id: 'a' }), eventRecord({ id: 'b' })], feedback: [] })
        await expect(buildInclusionProof(store, 'p1', 'a')).rejects.toMatchObject({ code: 'unavailable', retryAfter: 1 })
        await seal()
        await expect(buildInclusionProof(store, 'p2', 'a')).rejects.toMatchObject({ status: 404 }) // another project's
        const [a] = await store.eventsByIds('p1', ['a'])
        await appendAuditRecord(store, {
          project: 'p1',
          type: 'erasure',
          actor: { key_id: null },
          tombstones: [tombstone(a!)],
          writes: [deleteEvent('a')],
        })
        await expect(buildInclusionProof(store, 'p1', 'a')).rejects.toMatchObject({ code: 'erased', status: 410 })
        await sql.raw(`UPDATE events SET received_ms = received_ms + 1 WHERE id = 'b'`).execute(store.derived.db)
        await expect(buildInclusionProof(store, 'p1', 'b')).rejects.toMatchObject({ code: 'conflict' })
      })

      it('a checkpoint re-signed with another key fails verify', async () => {
        await store.writeBatch({ events: [eventRecord({ id: 'a' })], feedback: [] })
        await seal()
        await new AuditCheckpointer(store.derived, { key: other.privateKey }).step()
        expect(await verifyChain(store, { keys: [key.publicKey] })).toMatchObject({ ok: false, first_error: { code: 'unknown_key' } })
        expect(await verifyChain(store, { keys: [other.publicKey, key.publicKey] })).toMatchObject({ ok: true })
        await sql.raw(`UPDATE audit_checkpoints SET signed_ms = signed_ms + 1`).execute(store.derived.db)
        expect(await verifyChain(store, { keys: [other.publicKey] })).toMatchObject({ ok: false, first_error: { code: 'bad_signature' } })
      })
    })
  })
}
