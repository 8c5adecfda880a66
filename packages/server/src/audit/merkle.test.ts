import crypto from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { keyForm, LeafHasher, leafHashHex } from './leaf-hash.js'
import { chainHead, GENESIS_HEAD, inclusionPath, merkleRoot, nodeHash, sortLeaves, tombstonesRoot, verifyInclusion } from './merkle.js'
import { pgText } from '../store/postgres/pg-text.js'

const h = (s: string) => crypto.createHash('sha256').update(s).digest()

/** RFC 6962 §2.1 as written: split at the largest power of two below n. */
function referenceRoot(d: Buffer[]): Buffer {
  if (d.length === 0) return h('')
  if (d.length === 1) return d[0]!
  let k = 1
  while (k * 2 < d.length) k *= 2
  return nodeHash(referenceRoot(d.slice(0, k)), referenceRoot(d.slice(k)))
}

/** RFC 6962 §2.1.1 PATH(m, D[n]). */
function referencePath(m: number, d: Buffer[]): Buffer[] {
  if (d.length <= 1) return []
  let k = 1
  while (k * 2 < d.length) k *= 2
  return m < k
    ? [...referencePath(m, d.slice(0, k)), referenceRoot(d.slice(k))]
    : [...referencePath(m - k, d.slice(k)), referenceRoot(d.slice(0, k))]
}

const leaves = (n: number) => Array.from({ length: n }, (_, i) => h(`leaf ${i}`))

describe('merkle tree (RFC 6962)', () => {
  it('matches the recursive definition for every size up to 70, and every audit path verifies', () => {
    for (let n = 0; n <= 70; n++) {
      const d = leaves(n)
      expect(merkleRoot(d).equals(referenceRoot(d))).toBe(true)
      for (let m = 0; m < n; m++) {
        const p = inclusionPath(d, m)
        expect(p.map((x) => x.toString('hex'))).toEqual(referencePath(m, d).map((x) => x.toString('hex')))
        expect(verifyInclusion(d[m]!, m, n, p, merkleRoot(d))).toBe(true)
      }
    }
  })

  it('refuses a wrong leaf, index, size, path or root', () => {
    const d = leaves(13)
    const root = merkleRoot(d)
    const p = inclusionPath(d, 6)
    expect(verifyInclusion(d[5]!, 6, 13, p, root)).toBe(false)
    expect(verifyInclusion(d[6]!, 7, 13, p, root)).toBe(false)
    expect(verifyInclusion(d[6]!, 6, 7, p, root)).toBe(false)
    expect(verifyInclusion(d[6]!, 6, 13, p.slice(1), root)).toBe(false)
    expect(verifyInclusion(d[6]!, 6, 13, [...p, root], root)).toBe(false)
    expect(verifyInclusion(d[6]!, 6, 13, p, h('x'))).toBe(false)
    expect(verifyInclusion(d[6]!, -1, 13, p, root)).toBe(false)
    expect(verifyInclusion(d[6]!, 13, 13, p, root)).toBe(false)
    expect(() => inclusionPath(d, 13)).toThrow(RangeError)
  })

  it('the empty tree is SHA-256 of nothing; a single leaf is its own root', () => {
    expect(merkleRoot([]).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    const one = h('x')
    expect(merkleRoot([one]).equals(one)).toBe(true)
    expect(inclusionPath([one], 0)).toEqual([])
    expect(verifyInclusion(one, 0, 1, [], one)).toBe(true)
  })

  it('chains heads over every field of the link', () => {
    const link = { index: 1, position: 7, committedMs: 1_700_000_000_000, leaves: 3, root: h('r') }
    const a = chainHead(GENESIS_HEAD, link)
    expect(a).toHaveLength(32)
    for (const change of [{ index: 2 }, { position: 8 }, { committedMs: 1 }, { leaves: 4 }, { root: h('s') }]) {
      expect(chainHead(GENESIS_HEAD, { ...link, ...change }).equals(a)).toBe(false)
    }
    expect(chainHead(h('other'), link).equals(a)).toBe(false)
  })

  it('sorts leaves bytewise and digests tombstones independently of their order', () => {
    const d = sortLeaves(leaves(20))
    for (let i = 1; i < d.length; i++) expect(Buffer.compare(d[i - 1]!, d[i]!)).toBe(-1)
    const ts = [
      { kind: 'event', project: 'p', id: 'a', batch: 1, leaf: h('a').toString('hex') },
      { kind: 'feedback', project: 'p', id: 'b', batch: 2, leaf: h('b').toString('hex') },
    ]
    expect(tombstonesRoot(ts)).toBe(tombstonesRoot([ts[1]!, ts[0]!]))
    expect(tombstonesRoot(ts)).not.toBe(tombstonesRoot([{ ...ts[0]!, batch: 3 }, ts[1]!]))
  })
})

const event = {
  project: 'p1',
  id: '01900000-0000-7000-8000-000000000001',
  tsMs: 1_767_225_600_000,
  receivedMs: 1_767_225_600_123,
  model: 'churn',
  version: '3.2.0',
  stage: 'primary',
  status: 'ok',
  sessionId: null,
  userId: 'u-1',
  arm: null,
  shadowOf: null,
  body: '{"id":"01900000-0000-7000-8000-000000000001","input":{"é":1},"output":0.5}',
}

describe('leaf hash', () => {
  it('is SHA-256 of 0x00 and the length-prefixed fields, nulls as ffffffff', () => {
    const f = (s: string) => {
      const b = Buffer.from(s, 'utf8')
      const l = Buffer.alloc(4)
      l.writeUInt32BE(b.length)
      return Buffer.concat([l, b])
    }
    const NULL = Buffer.from('ffffffff', 'hex')
    const e = event
    const manual = crypto
      .createHash('sha256')
      .update(
        Buffer.concat([
          Buffer.from([0]),
          f('event'),
          f(e.project),
          f(e.id),
          f(String(e.tsMs)),
          f(String(e.receivedMs)),
          f(e.model),
          f(e.version),
          f(e.stage),
          f(e.status),
          NULL,
          f('u-1'),
          NULL,
          NULL,
          f(e.body),
        ]),
      )
      .digest('hex')
    expect(leafHashHex('event', e)).toBe(manual)
  })

  it('changes with every column, and tells a null from an empty string', () => {
    const base = leafHashHex('event', event)
    for (const [k, v] of Object.entries({
      project: 'p2',
      id: 'x',
      tsMs: 1,
      receivedMs: 2,
      model: 'm',
      version: 'v',
      stage: 's',
      status: 'error',
      sessionId: 's',
      userId: null,
      arm: 'a',
      shadowOf: 'z',
      body: '{}',
    })) {
      expect(leafHashHex('event', { ...event, [k]: v })).not.toBe(base)
    }
    expect(leafHashHex('event', { ...event, sessionId: '' })).not.toBe(base)
    const fb = { project: 'p1', id: 'f', eventId: 'e', name: 'thumbs', tsMs: 1, receivedMs: 2, body: '{}' }
    expect(leafHashHex('feedback', fb)).not.toBe(leafHashHex('feedback', { ...fb, name: 'label' }))
    // Same fields under another kind never collide.
    expect(leafHashHex('audit', { project: 'p1', id: 'f', tsMs: 1, body: '{}' })).not.toBe(leafHashHex('feedback', fb))
  })

  it('one hasher gives the same leaves as fresh ones, across sizes that grow its buffer', () => {
    const hasher = new LeafHasher()
    for (const size of [10, 100_000, 5, 40_000]) {
      const row = { ...event, body: JSON.stringify({ x: 'ü'.repeat(size) }) }
      expect(hasher.hash('event', row).toString('hex')).toBe(leafHashHex('event', row))
    }
  })

  it('puts indexed columns in PostgreSQL key form, so both stores give one leaf', () => {
    const long = 'k'.repeat(300)
    for (const v of ['plain', 'with\u0000nul', long, `${'x'.repeat(256)}`, '😀'.repeat(200)]) {
      expect(keyForm(v)).toBe(pgText(v))
      expect(keyForm(pgText(v))).toBe(pgText(v))
      expect(leafHashHex('event', { ...event, id: v })).toBe(leafHashHex('event', { ...event, id: pgText(v) }))
    }
  })
})
