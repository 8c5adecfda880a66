import type { AuditRecordRow, StoredTombstone } from './audit-log.js'
import type { EventRecord, FeedbackRecord } from './event-log.js'

/** One batch of an export, to be written back as it was (`inferlog import`). */
export interface ImportedBatch {
  /** Its commit position: kept, so the chain, its checkpoints and "as of" positions stay valid. */
  position: number
  /** Its commit time, epoch ms (part of the chain link). */
  committedMs: number
  events: EventRecord[]
  feedback: FeedbackRecord[]
  audit: AuditRecordRow[]
  /** Rows of this batch removed before the export (their leaves). */
  tombstones: StoredTombstone[]
}

/** Rebuilding a store from an export. */
export interface LogImporter {
  /**
   * Writes one batch in one transaction with the given position and commit time, its rows as
   * given (ids, timestamps, bodies). Rejects, writing nothing, when `position` is not after every
   * batch the store holds or a row's id is already stored. Meant for a store nothing else writes
   * to meanwhile.
   */
  importBatch(batch: ImportedBatch): Promise<void>
}
