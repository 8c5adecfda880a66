import type Database from 'better-sqlite3'
import type { CompiledWrite } from '../ports/derived-store.js'
import type { RetentionLog, TimePartition, TimePosition } from '../ports/erasure-log.js'
import type { LoggedEvent, LoggedFeedback } from '../ports/log-scanner.js'
import { EVENT_COLUMNS, FEEDBACK_COLUMNS } from './sqlite-scans.js'

/** Retention reads over the SQLite file: expired rows by the (project, time) indexes; no partitions. */
export class SqliteRetention implements RetentionLog {
  private s: ReturnType<SqliteRetention['prepare']> | undefined

  constructor(private readonly db: Database.Database) {}

  private prepare() {
    return {
      events: this.db.prepare(
        `SELECT ${EVENT_COLUMNS} FROM events e
          WHERE e.project = ? AND e.ts_ms < ? AND (e.ts_ms > ? OR (e.ts_ms = ? AND e.seq > ?))
          ORDER BY e.ts_ms, e.seq LIMIT ?`,
      ),
      feedback: this.db.prepare(
        `SELECT ${FEEDBACK_COLUMNS} FROM feedback f
          WHERE f.project = ? AND f.ts_ms < ? AND (f.ts_ms > ? OR (f.ts_ms = ? AND f.seq > ?))
          ORDER BY f.ts_ms, f.seq LIMIT ?`,
      ),
    }
  }

  private get st() {
    this.s ??= this.prepare()
    return this.s
  }

  async expiredEvents(project: string, beforeMs: number, limit: number, after?: TimePosition): Promise<LoggedEvent[]> {
    const a = after ?? { tsMs: Number.MIN_SAFE_INTEGER, seq: 0 }
    return this.st.events.all(project, beforeMs, a.tsMs, a.tsMs, a.seq, limit) as LoggedEvent[]
  }

  async expiredFeedback(project: string, beforeMs: number, limit: number, after?: TimePosition): Promise<LoggedFeedback[]> {
    const a = after ?? { tsMs: Number.MIN_SAFE_INTEGER, seq: 0 }
    return this.st.feedback.all(project, beforeMs, a.tsMs, a.tsMs, a.seq, limit) as LoggedFeedback[]
  }

  async partitionsBefore(_beforeMs: number): Promise<TimePartition[]> {
    return []
  }

  // A SQLite file has no partitions.
  async *scanPartition(_p: TimePartition, _chunkSize: number): AsyncIterable<(LoggedEvent | LoggedFeedback)[]> {}

  dropPartitionWrites(_p: TimePartition): CompiledWrite[] {
    return []
  }
}
