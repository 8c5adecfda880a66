import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { LeafScanRow } from '../store/ports/audit-log-scan.js'
import { eventRecord, feedbackRecord } from '../store/store-conformance.test-suite.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { sealAll } from './audit-conformance.test-suite.js'
import { LeafHasher, type LeafKind } from './leaf-hash.js'
import { LeafFieldsHasher } from './leaf-fields-hasher.js'
import { inclusionPath, merkleRoot, sortLeaves } from './merkle.js'
import { inclusionPathOfBytes, merkleRootOfBytes, sortedLeafBytes } from './sorted-leaves.js'
import { verifyChain } from './verify-chain.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-leaf-fields-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('LeafFieldsHasher over the SQLite leaf scan', () => {
  it('gives LeafHasher’s leaf for every ordinary row and leaves unusual ones to it', async () => {
    const store = new SqliteStore({ filename: path.join(dir, 'a.db') })
    await store.migrate()
    const long = 'L'.repeat(300)
    const events = [
      eventRecord({ id: 'plain' }),
      eventRecord({ id: 'nulls-and-values', sessionId: 's', userId: null, arm: 'b', shadowOf: null }),
      eventRecord({ id: 'ünïcødé-🙂', model: 'modèle', version: 'v—2', sessionId: '会话', userId: 'ü', arm: '', shadowOf: 'plain' }),
      eventRecord({ id: 'k'.repeat(256), model: 'm'.repeat(256) }),
      eventRecord({ id: long }),
      eventRecord({ id: 'nul\u0000inside' }),
      eventRecord({ id: 'negative-ts', tsMs: -5, receivedMs: 0 }),
      eventRecord({ id: 'body' }, { text: 'ünï\u0000cødé 🙂 "quoted"' }),
    ]
    await store.writeBatch({
      events,
      feedback: [feedbackRecord({ id: 'f1', eventId: 'plain' }), feedbackRecord({ id: 'f-ü', eventId: long, name: 'nämé' })],
    })
    await store.appendAudit({ record: { project: 'p1', id: 'rec-ü', tsMs: 1767225600000, body: '{"type":"x","ü":1}' } })
    const fields = new LeafFieldsHasher()
    const hasher = new LeafHasher()
    const unusual: string[] = []
    let checked = 0
    for await (const chunk of store.scanLeafRows(0, Number.MAX_SAFE_INTEGER)) {
      expect(chunk.stray).toEqual([])
      for (const b of chunk.batches) {
        for (const [kind, list] of [
          ['event', b.events],
          ['feedback', b.feedback],
          ['audit', b.audit],
        ] as [LeafKind, LeafScanRow[]][]) {
          const rows = await store.rowsBySeq(
            kind,
            list.map((r) => r[0]),
          )
          expect(rows.map((r) => r.seq)).toEqual(list.map((r) => r[0]))
          list.forEach((r, i) => {
            const leaf = fields.hash(kind, r[2], r[3])
            if (leaf === undefined) unusual.push(rows[i]!.id)
            else expect(Buffer.from(leaf, 'latin1').toString('hex')).toBe(hasher.hash(kind, rows[i]! as never).toString('hex'))
            checked++
          })
        }
      }
    }
    expect(checked).toBe(events.length + 3)
    // The 300-character id, and the feedback naming it as its event; the id holding U+0000.
    expect(unusual.sort()).toEqual([long, 'f-ü', 'nul\u0000inside'].sort())
    await sealAll(store)
    expect(await verifyChain(store)).toMatchObject({ ok: true, rows: events.length + 3 })
    await store.close()
  })

  it('refuses text that is not exactly the kind’s fields', () => {
    const h = new LeafFieldsHasher()
    expect(h.hash('audit', 'vp\u0000vid\u0000v5\u0000', '{}')).toHaveLength(32)
    expect(h.hash('audit', 'vp\u0000vi\u0000d\u0000v5\u0000', '{}')).toBeUndefined()
    expect(h.hash('audit', 'vp\u0000vid\u0000', '{}')).toBeUndefined()
    expect(h.hash('audit', 'vp\u0000n\u0000v5\u0000', '{}')).toBeUndefined()
    expect(h.hash('audit', 'vp\u0000x\u0000v5\u0000', '{}')).toBeUndefined()
    expect(h.hash('audit', 'vp\u0000vid\u0000v1234567890123456\u0000', '{}')).toBeUndefined()
    expect(h.hash('audit', 'vp\u0000vid\u0000v5\u0000', Buffer.from('{}'))).toBeUndefined()
  })
})

describe('sorted leaf bytes, their root and audit paths', () => {
  it('order and hash as sortLeaves, merkleRoot and inclusionPath do, ties on the first bytes included', () => {
    for (const n of [0, 1, 2, 3, 5, 8, 13, 100, 1000]) {
      const leaves = Array.from({ length: n }, (_, i) => {
        const b = Buffer.alloc(32)
        // Every third leaf shares its first 4 bytes with others.
        if (i % 3 === 0) b.writeUInt32BE(0xabcd0000, 0)
        else b.writeUInt32BE((i * 2654435761) >>> 0, 0)
        b.writeUInt32BE((i * 40503) >>> 0, 4)
        return b
      })
      const sorted = sortedLeafBytes(leaves.map((l) => l.toString('latin1')))
      const reference = sortLeaves(leaves.slice())
      expect(sorted.equals(Buffer.concat([Buffer.alloc(0), ...reference]))).toBe(true)
      expect(merkleRootOfBytes(sorted).equals(merkleRoot(reference))).toBe(true)
      for (const i of [0, 1, n >> 1, n - 2, n - 1].filter((i) => i >= 0 && i < n))
        expect(inclusionPathOfBytes(sorted, i).map((p) => p.toString('hex'))).toEqual(
          inclusionPath(reference, i).map((p) => p.toString('hex')),
        )
    }
  })
})
