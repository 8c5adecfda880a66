import type Database from 'better-sqlite3'
import type { AuditAppend } from '../ports/audit-log.js'
import type { ImportedBatch } from '../ports/log-import.js'
import type { CompiledWrite } from '../ports/derived-store.js'
import type { EventRecord, FeedbackRecord, WriteBatch, WriteOutcome, WriteResult } from '../ports/event-log.js'
import { sameSentContent } from '../same-content.js'
import { LOOKUP_CHUNK, LOOKUP_KINDS } from './sqlite-lookups.js'

function statements(db: Database.Database) {
  return {
    newBatch: db.prepare('INSERT INTO batches (committed_ms) VALUES (?)'),
    // Row numbers continue from the highest ever assigned (the previous batch's high-water mark, or
    // a row above it written before marks existed), never from the highest row still present: a
    // deleted newest row must not have its number handed out again, or the row ranges recorded
    // per batch (which the commit feed reads by) would overlap.
    lastSeqs: db.prepare(
      `SELECT max(coalesce((SELECT max(seq) FROM events), 0), coalesce(b.events_hi, 0)) AS e,
              max(coalesce((SELECT max(seq) FROM feedback), 0), coalesce(b.feedback_hi, 0)) AS f
         FROM (SELECT 1) LEFT JOIN (SELECT events_hi, feedback_hi FROM batches WHERE seq < ? ORDER BY seq DESC LIMIT 1) b`,
    ),
    prevBatch: db.prepare('SELECT coalesce(max(seq), 0) FROM batches WHERE seq < ?').pluck(),
    closeBatch: db.prepare('UPDATE batches SET events = ?, feedback = ?, events_hi = ?, feedback_hi = ? WHERE seq = ?'),
    insertEvent: db.prepare(
      `INSERT INTO events (seq, project, id, ts_ms, received_ms, model, version, stage, status, session_id, user_id, arm, shadow_of, batch, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project, id) DO NOTHING`,
    ),
    eventBody: db.prepare('SELECT body FROM events WHERE project = ? AND id = ?').pluck(),
    insertFeedback: db.prepare(
      `INSERT INTO feedback (seq, project, id, event_id, name, ts_ms, received_ms, batch, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project, id) DO NOTHING`,
    ),
    anyDigest: db.prepare('SELECT EXISTS (SELECT 1 FROM sent_digests)').pluck(),
    digestOf: db.prepare('SELECT digest FROM sent_digests WHERE kind = ? AND project = ? AND id = ?').pluck(),
    insertDigest: db.prepare('INSERT OR REPLACE INTO sent_digests (kind, project, id, digest) VALUES (?, ?, ?, ?)'),
    anyTombstone: db.prepare('SELECT EXISTS (SELECT 1 FROM audit_tombstones)').pluck(),
    tombstoned: db.prepare('SELECT 1 FROM audit_tombstones WHERE kind = ? AND project = ? AND id = ?').pluck(),
    feedbackBody: db.prepare('SELECT body FROM feedback WHERE project = ? AND id = ?').pluck(),
    lastBatch: db.prepare('SELECT coalesce(max(seq), 0) FROM batches').pluck(),
    importBatch: db.prepare('INSERT INTO batches (seq, committed_ms) VALUES (?, ?)'),
    insertAudit: db.prepare('INSERT INTO audit_records (project, id, ts_ms, batch, body) VALUES (?, ?, ?, ?, ?)'),
    insertTombstone: db.prepare('INSERT INTO audit_tombstones (kind, project, id, batch, leaf, record) VALUES (?, ?, ?, ?, ?, ?)'),
    position: db.prepare('SELECT position FROM feed_consumers WHERE name = ?').pluck(),
    ensureConsumer: db.prepare('INSERT INTO feed_consumers (name, position, updated_ms) VALUES (?, 0, ?) ON CONFLICT (name) DO NOTHING'),
    claim: db.prepare(
      'UPDATE feed_consumers SET holder = ?, lease_until = ? WHERE name = ? AND (holder IS NULL OR holder = ? OR lease_until < ? OR holder = ?)',
    ),
    setPosition: db.prepare(
      `INSERT INTO feed_consumers (name, position, updated_ms) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_ms = excluded.updated_ms`,
    ),
    lookupWatermark: db.prepare("SELECT value FROM meta WHERE name = 'lookup_watermark'").pluck(),
    setLookupWatermark: db.prepare("UPDATE meta SET value = ? WHERE name = 'lookup_watermark'"),
    maxEventSeq: db.prepare('SELECT max(seq) FROM events').pluck(),
    copyKeys: LOOKUP_KINDS.map((k) =>
      db.prepare(
        `INSERT OR IGNORE INTO event_keys (project, kind, key, seq)
         SELECT project, ${k.kind}, ${k.column}, seq FROM events WHERE seq > ? AND seq <= ? AND ${k.column} IS NOT NULL`,
      ),
    ),
  }
}

/**
 * Parameters as better-sqlite3 binds them: a `Uint8Array` that crossed from another thread (where
 * it was a Buffer) becomes a Buffer again, so it is stored as a blob.
 */
function bindable(parameters: readonly unknown[]): unknown[] {
  return parameters.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p))
}

/**
 * What the writer tells about a batch it committed, when asked to (`tap`): enough for the store to
 * hand the batch's rows to the commit feed without reading them back.
 */
export interface CommitDetails {
  /** The batch's `committed_ms`. */
  committedMs: number
  /** Commit position of the batch before it (0 for the first). */
  after: number
  /** Row number before the batch's first inserted event / feedback item (they follow on by one). */
  eventSeq: number
  feedbackSeq: number
  /**
   * False when a text value of an inserted row is not well-formed UTF-16 (a lone surrogate):
   * SQLite stores it differently from the string, so only a read-back shows the stored row.
   */
  exact: boolean
}

/** {@link SqliteWriter.writeBatch}'s result: the port's, and the commit's details when tapped. */
export interface SqliteWriteResult extends WriteResult {
  commit?: CommitDetails
}

const isWellFormed = (s: string | null): boolean => s === null || (s as unknown as { isWellFormed(): boolean }).isWellFormed()

/** True when every text value of the row is stored exactly as the string (no lone surrogate). */
export function wellFormedEvent(e: EventRecord): boolean {
  return (
    isWellFormed(e.body) &&
    isWellFormed(e.project) &&
    isWellFormed(e.id) &&
    isWellFormed(e.model) &&
    isWellFormed(e.version) &&
    isWellFormed(e.stage) &&
    isWellFormed(e.status) &&
    isWellFormed(e.sessionId) &&
    isWellFormed(e.userId) &&
    isWellFormed(e.arm) &&
    isWellFormed(e.shadowOf)
  )
}

/** As {@link wellFormedEvent} for a feedback item. */
export function wellFormedFeedback(f: FeedbackRecord): boolean {
  return isWellFormed(f.body) && isWellFormed(f.project) && isWellFormed(f.id) && isWellFormed(f.eventId) && isWellFormed(f.name)
}

/**
 * Everything that writes the SQLite file: group commits, consumer writes with their watermark,
 * and look-up indexing. One instance per write connection: the writer thread's, or the store's
 * own when commits run inline. Synchronous; one transaction at a time.
 */
export class SqliteWriter {
  private s: ReturnType<typeof statements> | undefined
  private readonly compiled = new Map<string, Database.Statement>()
  private tap = false
  private full: boolean | undefined

  constructor(
    private readonly db: Database.Database,
    private readonly afterCommit: () => void = () => undefined,
  ) {}

  private get st() {
    this.s ??= statements(this.db)
    return this.s
  }

  /**
   * Asks {@link writeBatch} for its commit's details (false: stop): the store hands the rows to the
   * commit feed. Nothing is hashed here (the audit chain hashes in its own step, off this thread).
   */
  setTap(on: boolean): void {
    this.tap = on
  }

  /** One group commit: a new batch, every item inserted or told duplicate/conflict/erased. */
  writeBatch(batch: WriteBatch): SqliteWriteResult {
    const s = this.st
    const tap = this.tap
    let commit: CommitDetails | undefined
    const result = this.db
      .transaction((): WriteResult => {
        const committedMs = Date.now()
        const batchSeq = Number(s.newBatch.run(committedMs).lastInsertRowid)
        const last = s.lastSeqs.get(batchSeq) as { e: number; f: number }
        if (tap) commit = { committedMs, after: s.prevBatch.get(batchSeq) as number, eventSeq: last.e, feedbackSeq: last.f, exact: true }
        let eventSeq = last.e
        let feedbackSeq = last.f
        // Only a log that ever lost a row pays for the tombstone look-ups.
        const erasures = s.anyTombstone.get() === 1
        const erased = (project: string, kind: 'event' | 'feedback', id: string | null) =>
          id !== null && s.tombstoned.get(kind, project, id) === 1
        // Only a log that ever stored a redacted row keeps sent digests to compare re-sends with.
        const digests = s.anyDigest.get() === 1
        const same = (kind: 'event' | 'feedback', project: string, id: string, stored: string, body: string, digest: string | undefined) =>
          sameSentContent(stored, digests ? (s.digestOf.get(kind, project, id) as string | undefined) : undefined, body, digest)
        const events: WriteOutcome[] = new Array(batch.events.length)
        const feedback: WriteOutcome[] = new Array(batch.feedback.length)
        let nEvents = 0
        let nFeedback = 0
        for (let i = 0; i < batch.events.length; i++) {
          const e = batch.events[i]!
          if (erasures && (erased(e.project, 'event', e.id) || erased(e.project, 'event', e.shadowOf))) {
            events[i] = 'erased'
            continue
          }
          const r = s.insertEvent.run(
            eventSeq + 1,
            e.project,
            e.id,
            e.tsMs,
            e.receivedMs,
            e.model,
            e.version,
            e.stage,
            e.status,
            e.sessionId,
            e.userId,
            e.arm,
            e.shadowOf,
            batchSeq,
            e.body,
          )
          if (r.changes === 1) {
            events[i] = 'inserted'
            eventSeq++
            nEvents++
            if (e.sentDigest) s.insertDigest.run('event', e.project, e.id, e.sentDigest)
          } else {
            events[i] = same('event', e.project, e.id, s.eventBody.get(e.project, e.id) as string, e.body, e.sentDigest)
              ? 'duplicate'
              : 'conflict'
          }
        }
        for (let i = 0; i < batch.feedback.length; i++) {
          const f = batch.feedback[i]!
          if (erasures && (erased(f.project, 'feedback', f.id) || erased(f.project, 'event', f.eventId))) {
            feedback[i] = 'erased'
            continue
          }
          const r = s.insertFeedback.run(feedbackSeq + 1, f.project, f.id, f.eventId, f.name, f.tsMs, f.receivedMs, batchSeq, f.body)
          if (r.changes === 1) {
            feedback[i] = 'inserted'
            feedbackSeq++
            nFeedback++
            if (f.sentDigest) s.insertDigest.run('feedback', f.project, f.id, f.sentDigest)
          } else {
            feedback[i] = same('feedback', f.project, f.id, s.feedbackBody.get(f.project, f.id) as string, f.body, f.sentDigest)
              ? 'duplicate'
              : 'conflict'
          }
        }
        s.closeBatch.run(nEvents, nFeedback, eventSeq, feedbackSeq, batchSeq)
        return { batchSeq, events, feedback }
      })
      .immediate()
    this.afterCommit()
    if (commit) this.describe(batch, result, commit)
    return commit ? { ...result, commit } : result
  }

  /** Checks the inserted rows' text (after the commit). */
  private describe(batch: WriteBatch, result: WriteResult, commit: CommitDetails): void {
    for (let i = 0; i < batch.events.length; i++) {
      if (result.events[i] === 'inserted' && !wellFormedEvent(batch.events[i]!)) {
        commit.exact = false
        return
      }
    }
    for (let i = 0; i < batch.feedback.length; i++) {
      if (result.feedback[i] === 'inserted' && !wellFormedFeedback(batch.feedback[i]!)) {
        commit.exact = false
        return
      }
    }
  }

  /** An administrative record, its tombstones and `writes`, as one batch of its own. */
  appendAudit(entry: AuditAppend): { batchSeq: number } {
    const s = this.st
    const result = this.db
      .transaction(() => {
        const batchSeq = Number(s.newBatch.run(Date.now()).lastInsertRowid)
        // Taken before `writes` may delete the newest rows: their numbers stay spent.
        const last = s.lastSeqs.get(batchSeq) as { e: number; f: number }
        const r = entry.record
        s.insertAudit.run(r.project, r.id, r.tsMs, batchSeq, r.body)
        for (const t of entry.tombstones ?? []) s.insertTombstone.run(t.kind, t.project, t.id, t.batch, t.leaf, r.id)
        for (const w of entry.writes ?? []) this.statement(w.sql).run(...bindable(w.parameters))
        s.closeBatch.run(0, 0, last.e, last.f, batchSeq)
        return { batchSeq }
      })
      .immediate()
    this.afterCommit()
    return result
  }

  /** One batch of an export, as it was: its position, commit time and rows (see `LogImporter`). */
  importBatch(b: ImportedBatch): void {
    const s = this.st
    this.db
      .transaction(() => {
        const lastBatch = s.lastBatch.get() as number
        if (b.position <= lastBatch) throw new Error(`batch ${b.position} is not after the store's last batch ${lastBatch}`)
        s.importBatch.run(b.position, b.committedMs)
        const last = s.lastSeqs.get(b.position) as { e: number; f: number }
        let eventSeq = last.e
        let feedbackSeq = last.f
        for (const e of b.events) {
          const r = s.insertEvent.run(
            ++eventSeq,
            e.project,
            e.id,
            e.tsMs,
            e.receivedMs,
            e.model,
            e.version,
            e.stage,
            e.status,
            e.sessionId,
            e.userId,
            e.arm,
            e.shadowOf,
            b.position,
            e.body,
          )
          if (r.changes !== 1) throw new Error(`event ${e.project}/${e.id} of batch ${b.position} is already stored`)
        }
        for (const f of b.feedback) {
          const r = s.insertFeedback.run(++feedbackSeq, f.project, f.id, f.eventId, f.name, f.tsMs, f.receivedMs, b.position, f.body)
          if (r.changes !== 1) throw new Error(`feedback ${f.project}/${f.id} of batch ${b.position} is already stored`)
        }
        for (const r of b.audit) s.insertAudit.run(r.project, r.id, r.tsMs, b.position, r.body)
        for (const t of b.tombstones) s.insertTombstone.run(t.kind, t.project, t.id, t.batch, t.leaf, t.record)
        s.closeBatch.run(b.events.length, b.feedback.length, eventSeq, feedbackSeq, b.position)
      })
      .immediate()
    this.afterCommit()
  }

  /**
   * A consumer's writes and its watermark, in one transaction; false when the watermark moved.
   *
   * Committed without waiting for fsync (`synchronous = NORMAL` for this transaction when the
   * connection runs `FULL`): a consumer's step is derived state, and the WAL is replayed only as a
   * prefix after a power loss, so losing a step loses its writes and its watermark together (the
   * step is applied again: still exactly once), while every later `FULL` commit (an acknowledged
   * ingest batch) fsyncs the WAL up to itself, steps before it included. The writer then spends no
   * fsync per consumer step between group commits.
   */
  advance(consumer: string, from: number, to: number, writes: readonly CompiledWrite[], nowMs: number): boolean {
    const s = this.st
    // (Inside another transaction, possible on a store writing inline, the level cannot change.)
    const relax = !this.db.inTransaction && this.fullSync()
    if (relax) this.db.exec('PRAGMA synchronous = NORMAL')
    let ok: boolean
    try {
      ok = this.db
        .transaction((): boolean => {
          const at = (s.position.get(consumer) as number | undefined) ?? 0
          if (at !== from) return false
          for (const w of writes) this.statement(w.sql).run(...bindable(w.parameters))
          s.setPosition.run(consumer, to, nowMs)
          return true
        })
        .immediate()
    } finally {
      if (relax) this.db.exec('PRAGMA synchronous = FULL')
    }
    this.afterCommit()
    return ok
  }

  /** Whether the connection runs `synchronous = FULL` (read once). */
  private fullSync(): boolean {
    this.full ??= (this.db.pragma('synchronous', { simple: true }) as number) === 2
    return this.full
  }

  /** Takes or renews a consumer's lease (or takes it from `takeOverFrom`); true when `holder` holds it. */
  claim(consumer: string, holder: string, nowMs: number, ttlMs: number, takeOverFrom?: string): boolean {
    const s = this.st
    return this.db
      .transaction(() => {
        s.ensureConsumer.run(consumer, nowMs)
        return s.claim.run(holder, nowMs + ttlMs, consumer, holder, nowMs, takeOverFrom ?? holder).changes === 1
      })
      .immediate()
  }

  /** Writes with no watermark, in one transaction. */
  exec(writes: readonly CompiledWrite[]): void {
    this.db.transaction(() => {
      for (const w of writes) this.statement(w.sql).run(...bindable(w.parameters))
    })()
    this.afterCommit()
  }

  private statement(sql: string): Database.Statement {
    let stmt = this.compiled.get(sql)
    if (!stmt) {
      stmt = this.db.prepare(sql)
      // Consumers issue a handful of distinct statements; cap the cache anyway.
      if (this.compiled.size < 500) this.compiled.set(sql, stmt)
    }
    return stmt
  }

  /**
   * Copies session/user/arm keys of up to `maxRows` not-yet-indexed events into `event_keys`
   * and advances the look-up watermark. Returns how many events it covered.
   */
  indexLookups(maxRows = LOOKUP_CHUNK): number {
    const s = this.st
    return this.db
      .transaction(() => {
        const wm = s.lookupWatermark.get() as number
        const max = (s.maxEventSeq.get() as number | null) ?? 0
        const hi = Math.min(max, wm + maxRows)
        if (hi <= wm) return 0
        for (const ins of s.copyKeys) ins.run(wm, hi)
        s.setLookupWatermark.run(hi)
        return hi - wm
      })
      .immediate()
  }
}
