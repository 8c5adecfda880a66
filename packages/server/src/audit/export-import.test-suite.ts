/**
 * Export and import between two stores (the same adapter, or SQLite into PostgreSQL): what comes
 * back is byte-equal on reads, keeps its batches, chain and checkpoints, and verifies; a damaged,
 * reordered or truncated export stops at the first bad batch.
 */
import crypto from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createApiKey } from '../auth/api-keys.js'
import { eventRecord, feedbackRecord } from '../store/store-conformance.test-suite.js'
import type { Store } from '../store/store.js'
import { sealAll, tombstone } from './audit-conformance.test-suite.js'
import { sealedHead } from './audit-chain-consumer.js'
import { AuditCheckpointer } from './audit-checkpointer.js'
import { appendAuditRecord } from './audit-records.js'
import { exportLog, type ExportLine } from './export-log.js'
import { importLog, ImportStopped } from './import-log.js'
import { keyForm } from './leaf-hash.js'
import { verifyChain } from './verify-chain.js'

const key = crypto.generateKeyPairSync('ed25519')

/** Eight batches: events (one with a long id, one with U+0000 in its id), feedback, an erasure, a key record; sealed and signed. */
export async function populate(store: Store): Promise<string[]> {
  const ids: string[] = []
  for (let b = 1; b <= 5; b++) {
    const events = Array.from({ length: b * 2 }, (_, i) =>
      eventRecord({ id: `e${b}-${i}`, sessionId: i % 2 ? `s${b}` : null }, { input: { text: `héllo ${b}/${i} 📦` } }),
    )
    if (b === 2) events.push(eventRecord({ id: `long-${'x'.repeat(300)}` }), eventRecord({ id: 'nul\u0000id' }))
    ids.push(...events.map((e) => e.id))
    await store.writeBatch({ events, feedback: [feedbackRecord({ id: `f${b}`, eventId: `e${b}-0` }, { score: b / 3 })] })
  }
  await store.writeBatch({ events: [], feedback: [] }) // an empty batch is a batch too
  await sealAll(store)
  const cp = new AuditCheckpointer(store.derived, { key: key.privateKey })
  await cp.step()
  const [gone] = await store.eventsByIds('p1', ['e3-1'])
  await appendAuditRecord(store, {
    project: 'p1',
    type: 'erasure',
    actor: { key_id: null },
    reason: 'test',
    tombstones: [tombstone(gone!)],
    writes: [store.derived.db.deleteFrom('events').where('project', '=', 'p1').where('id', '=', 'e3-1').compile()],
  })
  await createApiKey(store, { project: 'p1', scopes: ['read'] })
  await sealAll(store)
  await cp.step()
  return ids.filter((id) => id !== 'e3-1')
}

export async function collect(store: Store, after = 0): Promise<ExportLine[]> {
  const out: ExportLine[] = []
  for await (const l of exportLog(store, { after })) out.push(l)
  return out
}

async function* linesOf(lines: readonly unknown[]): AsyncIterable<string> {
  for (const l of lines) yield JSON.stringify(l)
}

/** What reads return for these events: bodies, feedback, and a page of the list. */
export async function reads(store: Store, ids: readonly string[]) {
  const out: unknown[] = []
  for (const id of ids) {
    const e = await store.getEvent('p1', id)
    out.push([id, e?.body, e?.tsMs, e?.receivedMs, (await store.feedbackForEvent('p1', id)).map((f) => f.body)])
  }
  out.push((await store.listEvents('p1', { sessionId: 's4' }, 100)).rows.map((r) => r.body))
  return out
}

/** Export from one store, import into another. */
export function describeExportImport(name: string, makeSource: () => Promise<Store>, makeTarget: () => Promise<Store>): void {
  describe(`export and import: ${name}`, () => {
    let source: Store
    let target: Store
    beforeEach(async () => {
      source = await makeSource()
      await source.migrate()
      target = await makeTarget()
      await target.migrate()
    })
    afterEach(async () => {
      await source.close()
      await target.close()
    })

    it('rebuilds the store byte-equal on reads, with its batches, chain and checkpoints, and it verifies', async () => {
      const ids = await populate(source)
      const lines = await collect(source)
      expect(lines[0]).toMatchObject({ type: 'header', after: 0, prev_index: 0 })
      expect(lines.at(-1)).toMatchObject({ type: 'end', batches: 8, index: 8 })
      expect(lines.filter((l) => l.type === 'checkpoint')).toHaveLength(2)
      // Erased data does not come back: its tombstone does.
      expect(JSON.stringify(lines)).not.toContain('"e3-1","ts_ms"')
      expect(lines.filter((l) => l.type === 'tombstone')).toMatchObject([{ kind: 'event', id: 'e3-1' }])

      const r = await importLog(target, linesOf(lines))
      expect(r).toMatchObject({ batches: 8, first: 1, last: 8, checkpoints: 2 })
      expect(await reads(target, ids)).toEqual(await reads(source, ids))
      expect((await sealedHead(target.derived))?.head).toEqual((await sealedHead(source.derived))?.head)
      expect(await verifyChain(target, { keys: [key.publicKey] })).toMatchObject({
        ok: true,
        batches: 8,
        checkpoints: { checked: 2, signatures: 'checked' },
      })
      expect(await target.getEvent('p1', 'e3-1')).toBeUndefined()
      expect(await target.tombstonesOf('event', 'p1', ['e3-1'])).toHaveLength(1)
      expect((await target.auditRecords('p1')).map((a) => JSON.parse(a.body).type)).toEqual(['key_created', 'erasure'])
      // The imported store exports the same lines again (ids in PostgreSQL's key form: a store
      // keeps what it can index; the bodies keep the originals).
      const again = await collect(target)
      const strip = (ls: ExportLine[]) =>
        ls.map((l) =>
          l.type === 'header' ? { ...l, exported_at: '' } : 'id' in l && typeof l.id === 'string' ? { ...l, id: keyForm(l.id) } : l,
        )
      expect(strip(again)).toEqual(strip(lines))
      // New commits on the imported store take positions after the imported ones.
      await target.writeBatch({ events: [eventRecord({ id: 'after-import' })], feedback: [] })
      await sealAll(target)
      expect(await verifyChain(target)).toMatchObject({ ok: true, batches: 9 })
    })

    it('continues from where the target ends (--after), and refuses an export that does not fit', async () => {
      await populate(source)
      const all = await collect(source)
      const firstPart = all.slice(
        0,
        all.findIndex((l) => l.type === 'batch' && l.position === 5),
      )
      const endAt4 = {
        type: 'end',
        batches: 4,
        rows: 0,
        index: 4,
        head: (all.find((l) => l.type === 'batch' && l.position === 4) as { head: string }).head,
      }
      await expect(importLog(target, linesOf([...firstPart, endAt4]))).resolves.toMatchObject({ batches: 4, last: 4 })
      const rest = await collect(source, 4)
      expect(rest[0]).toMatchObject({ type: 'header', after: 4, prev_index: 4, prev_rows: 26 })
      // The whole export again does not fit any more: it starts at the beginning.
      await expect(importLog(target, linesOf(all))).rejects.toThrow(/this store ends at batch 4/)
      await expect(importLog(target, linesOf(rest))).resolves.toMatchObject({ batches: 4, first: 5, last: 8 })
      expect(await verifyChain(target, { keys: [key.publicKey] })).toMatchObject({ ok: true, batches: 8 })
    })

    it('stops at the first bad batch of a damaged, reordered or truncated export and names it', async () => {
      await populate(source)
      const all = await collect(source)
      const batchAt = (p: number) => all.findIndex((l) => l.type === 'batch' && l.position === p)
      const attempt = async (lines: unknown[]) => {
        const fresh = await makeTarget()
        await fresh.migrate()
        try {
          await importLog(fresh, linesOf(lines))
          return undefined
        } catch (e) {
          expect(e).toBeInstanceOf(ImportStopped)
          return { error: e as ImportStopped, head: await fresh.commitHead() }
        } finally {
          await fresh.close()
        }
      }
      // A row's body edited.
      const edited = structuredClone(all)
      const row = edited.findIndex((l) => l.type === 'event' && l.id === 'e4-2')
      ;(edited[row] as { body: string }).body = (edited[row] as { body: string }).body.replace('héllo', 'hello')
      let r = await attempt(edited)
      expect(r?.error.message).toMatch(/^import stopped at batch 4 \(line \d+\): its rows do not hash to its root/)
      expect(r).toMatchObject({ error: { batch: 4, imported: 3 }, head: 3 })
      // Two batches swapped.
      const swapped = [
        ...all.slice(0, batchAt(3)),
        ...all.slice(batchAt(4), batchAt(5)),
        ...all.slice(batchAt(3), batchAt(4)),
        ...all.slice(batchAt(5)),
      ]
      r = await attempt(swapped)
      expect(r?.error).toMatchObject({ batch: 4, imported: 2 })
      expect(r?.error.message).toMatch(/out of order/)
      // A batch dropped.
      r = await attempt([...all.slice(0, batchAt(2)), ...all.slice(batchAt(3))])
      expect(r?.error).toMatchObject({ batch: 3, imported: 1 })
      // A row dropped: the counts no longer match.
      r = await attempt(all.filter((l) => !(l.type === 'event' && l.id === 'e2-1')))
      expect(r?.error).toMatchObject({ batch: 2, imported: 1 })
      // Cut inside batch 5.
      r = await attempt(all.slice(0, batchAt(5) + 2))
      expect(r?.error).toMatchObject({ batch: 5, imported: 4 })
      expect(r?.error.message).toMatch(/truncated/)
      // A forged checkpoint.
      const forged = structuredClone(all)
      const cpAt = forged.findIndex((l) => l.type === 'checkpoint')
      ;(forged[cpAt] as { rows: number }).rows += 1
      r = await attempt(forged)
      expect(r?.error.message).toMatch(/checkpoint \d+ does not match the chain/)
      // Not an export at all.
      r = await attempt([{ hello: 1 }])
      expect(r?.error).toMatchObject({ batch: undefined, imported: 0, line: 1 })
    })
  })
}
