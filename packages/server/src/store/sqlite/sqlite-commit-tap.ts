import type { WriteBatch, WriteResult } from '../ports/event-log.js'
import type { CommitListener, CommittedBatch, LoggedEvent, LoggedFeedback } from '../ports/log-scanner.js'
import { PARSED_BODY } from '../ports/parsed-body.js'
import type { CommitDetails } from './sqlite-writer.js'

/**
 * The listeners of the SQLite store's {@link CommitTap}: turns what the writer inserted (the items
 * of the `WriteBatch`, their outcomes and the commit's details) into the `CommittedBatch` that
 * `readBatches` would return for it, row for row, without reading it back.
 *
 * @param configure tells the writer whether to tell each commit's details.
 */
export class SqliteCommitTap {
  private readonly listeners = new Set<CommitListener>()

  constructor(private readonly configure: (on: boolean) => void) {}

  /** True while someone listens: `writeBatch` then asks the writer for commit details. */
  get active(): boolean {
    return this.listeners.size > 0
  }

  /** Adds a listener; returns the function that removes it. */
  add(listener: CommitListener): () => void {
    const first = this.listeners.size === 0
    this.listeners.add(listener)
    if (first) this.configure(true)
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.configure(false)
    }
  }

  /** Hands a committed ingest batch to every listener (nothing when the writer could not vouch for it). */
  committed(batch: WriteBatch, result: WriteResult, d: CommitDetails | undefined): void {
    if (!d?.exact || this.listeners.size === 0) return
    const position = result.batchSeq
    const events: LoggedEvent[] = []
    let seq = d.eventSeq
    for (let i = 0; i < batch.events.length; i++) {
      if (result.events[i] !== 'inserted') continue
      const e = batch.events[i]!
      // A fresh object of the read-back's shape and field order (no `sentDigest`).
      events.push({
        project: e.project,
        id: e.id,
        seq: ++seq,
        batch: position,
        tsMs: e.tsMs,
        receivedMs: e.receivedMs,
        model: e.model,
        version: e.version,
        stage: e.stage,
        status: e.status,
        sessionId: e.sessionId ?? null,
        userId: e.userId ?? null,
        arm: e.arm ?? null,
        shadowOf: e.shadowOf ?? null,
        body: e.body,
        // Ingest's parsed item, when it kept one: consumers need not parse the text again.
        [PARSED_BODY]: e[PARSED_BODY],
      })
    }
    const feedback: LoggedFeedback[] = []
    seq = d.feedbackSeq
    for (let i = 0; i < batch.feedback.length; i++) {
      if (result.feedback[i] !== 'inserted') continue
      const f = batch.feedback[i]!
      feedback.push({
        project: f.project,
        id: f.id,
        seq: ++seq,
        batch: position,
        eventId: f.eventId,
        name: f.name,
        tsMs: f.tsMs,
        receivedMs: f.receivedMs,
        body: f.body,
        [PARSED_BODY]: f[PARSED_BODY],
      })
    }
    const b: CommittedBatch = { position, committedMs: d.committedMs, events, feedback }
    for (const listener of this.listeners) {
      try {
        listener(b, d.after)
      } catch {
        // The batch is committed whatever a listener does; its readers read it back instead.
      }
    }
  }
}
