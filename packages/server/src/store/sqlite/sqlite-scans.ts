import type Database from 'better-sqlite3'
import type { LoggedAuditRecord } from '../ports/audit-log.js'
import type {
  CommittedBatch,
  EventBody,
  FeedbackBody,
  LogScanner,
  LoggedEvent,
  LoggedFeedback,
  ReadBatchesOptions,
  ScanBounds,
} from '../ports/log-scanner.js'
import type { EventFilter } from '../ports/record-reader.js'
import { idSpan, spanLimit } from '../id-span.js'
import { eventWhere } from '../sql-filters.js'
import { PACKED_EVENT, PACKED_EVENT_BODY, PACKED_FEEDBACK, PACKED_FEEDBACK_BODY, PackedRowReader } from './packed-rows.js'

// The scanner reads rows packed into one string each (see packed-rows.ts). Rows it cannot cut,
// and other readers (the aliases serve those that take objects, e.g. the audit scan), read these
// columns: as arrays (`raw`) made objects in `toEvent`/`toFeedback`, about 30% less CPU per
// 1.2 KB event than letting better-sqlite3 build each object.
export const EVENT_COLUMNS = `e.project, e.id, e.seq, e.batch, e.ts_ms AS tsMs, e.received_ms AS receivedMs, e.model, e.version, e.stage, e.status,
  e.session_id AS sessionId, e.user_id AS userId, e.arm, e.shadow_of AS shadowOf, e.body`
export const FEEDBACK_COLUMNS = `f.project, f.id, f.seq, f.batch, f.event_id AS eventId, f.name, f.ts_ms AS tsMs, f.received_ms AS receivedMs, f.body`

type Raw = unknown[]

function toEvent(r: Raw): LoggedEvent {
  return {
    project: r[0] as string,
    id: r[1] as string,
    seq: r[2] as number,
    batch: r[3] as number,
    tsMs: r[4] as number,
    receivedMs: r[5] as number,
    model: r[6] as string,
    version: r[7] as string,
    stage: r[8] as string,
    status: r[9] as string,
    sessionId: r[10] as string | null,
    userId: r[11] as string | null,
    arm: r[12] as string | null,
    shadowOf: r[13] as string | null,
    body: r[14] as string,
  }
}

function toFeedback(r: Raw): LoggedFeedback {
  return {
    project: r[0] as string,
    id: r[1] as string,
    seq: r[2] as number,
    batch: r[3] as number,
    eventId: r[4] as string,
    name: r[5] as string,
    tsMs: r[6] as number,
    receivedMs: r[7] as number,
    body: r[8] as string,
  }
}

interface BatchRow {
  seq: number
  committedMs: number
  events: number
  feedback: number
  eventsHi: number
  feedbackHi: number
}

/**
 * Rowid ranges up to this many rows are scanned without first narrowing them with the indexes:
 * walking 65 536 rows costs about what the narrowing query costs on a million events.
 */
const NARROW_ABOVE_ROWS = 65_536

/**
 * The committed log of the SQLite file. One writer makes batch numbers the commit order, and the
 * rows of a batch occupy one rowid range (a transaction inserts them with nothing in between), so
 * the feed and the scans walk rowid ranges recorded per batch (`events_hi`, `feedback_hi`) and
 * need no index on `batch`. Rows removed by erasure or retention leave gaps in those ranges, never
 * overlaps: the writer never hands out a row number twice (see `SqliteWriter.writeBatch`).
 */
export class SqliteLogScanner implements LogScanner {
  private s: ReturnType<SqliteLogScanner['prepare']> | undefined
  private readonly packed = new PackedRowReader(
    (seq) => toEvent(this.st.eventAt.get(seq) as Raw),
    (seq) => toFeedback(this.st.feedbackAt.get(seq) as Raw),
  )

  constructor(
    private readonly db: Database.Database,
    private readonly audit: { recordsIn(after: number, upTo: number): LoggedAuditRecord[] },
  ) {}

  private prepare() {
    const db = this.db
    return {
      head: db.prepare('SELECT coalesce(max(seq), 0) FROM batches').pluck(),
      batches: db.prepare(
        `SELECT seq, committed_ms AS committedMs, events, feedback, events_hi AS eventsHi, feedback_hi AS feedbackHi
           FROM batches WHERE seq > ? ORDER BY seq LIMIT ?`,
      ),
      his: db.prepare('SELECT events_hi AS eventsHi, feedback_hi AS feedbackHi FROM batches WHERE seq <= ? ORDER BY seq DESC LIMIT 1'),
      eventRange: db.prepare(`SELECT ${PACKED_EVENT} FROM events e WHERE e.seq > ? AND e.seq <= ? ORDER BY e.seq`).pluck(),
      feedbackRange: db.prepare(`SELECT ${PACKED_FEEDBACK} FROM feedback f WHERE f.seq > ? AND f.seq <= ? ORDER BY f.seq`).pluck(),
      eventAt: db.prepare(`SELECT ${EVENT_COLUMNS} FROM events e WHERE e.seq = ?`).raw(true),
      feedbackAt: db.prepare(`SELECT ${FEEDBACK_COLUMNS} FROM feedback f WHERE f.seq = ?`).raw(true),
      shadowsOf: db
        .prepare(
          `SELECT ${PACKED_EVENT} FROM events e WHERE e.project = ? AND e.shadow_of IN (SELECT value FROM json_each(?)) AND e.seq <= ?`,
        )
        .pluck(),
      eventsOf: db.prepare(`SELECT ${PACKED_EVENT} FROM events e WHERE e.project = ? AND e.id IN (SELECT value FROM json_each(?))`).pluck(),
      feedbackOf: db
        .prepare(
          `SELECT ${PACKED_FEEDBACK} FROM feedback f
            WHERE f.project = ? AND f.event_id IN (SELECT value FROM json_each(?)) AND f.seq <= ?`,
        )
        .pluck(),
      feedbackBodies: db
        .prepare(
          `SELECT ${PACKED_FEEDBACK_BODY} FROM feedback f
            WHERE f.project = ? AND f.event_id IN (SELECT value FROM json_each(?)) AND f.seq <= ? ORDER BY f.event_id`,
        )
        .pluck(),
      // By id range (see id-span.ts): the events in it, counted from the index alone, then the
      // feedback of the range in one walk of the (project, event_id) index. `+f.seq` keeps the
      // planner off a rowid range.
      eventsInSpan: db.prepare('SELECT count(*) FROM (SELECT 1 FROM events WHERE project = ? AND id >= ? AND id <= ? LIMIT ?)').pluck(),
      feedbackOfSpan: db
        .prepare(`SELECT ${PACKED_FEEDBACK} FROM feedback f WHERE f.project = ? AND f.event_id >= ? AND f.event_id <= ? AND +f.seq <= ?`)
        .pluck(),
      // In event id order, as the index walk reads them (no sort): matched to the asked ids in one pass.
      feedbackBodiesOfSpan: db
        .prepare(
          `SELECT ${PACKED_FEEDBACK_BODY} FROM feedback f
            WHERE f.project = ? AND f.event_id >= ? AND f.event_id <= ? AND +f.seq <= ? ORDER BY f.event_id`,
        )
        .pluck(),
    }
  }

  private get st() {
    this.s ??= this.prepare()
    return this.s
  }

  /** Row ranges up to batch `position`: the highest event and feedback rowids it had committed. */
  private his(position: number): { eventsHi: number; feedbackHi: number } {
    if (position <= 0) return { eventsHi: 0, feedbackHi: 0 }
    return (this.st.his.get(position) as { eventsHi: number; feedbackHi: number } | undefined) ?? { eventsHi: 0, feedbackHi: 0 }
  }

  async commitHead(): Promise<number> {
    return this.st.head.get() as number
  }

  async readBatches(after: number, o: ReadBatchesOptions = {}): Promise<CommittedBatch[]> {
    const maxRows = o.maxRows ?? 20_000
    const rows = this.st.batches.all(after, o.maxBatches ?? 100) as BatchRow[]
    const picked: BatchRow[] = []
    let held = 0
    for (const b of rows) {
      if (picked.length > 0 && held + b.events + b.feedback > maxRows) break
      picked.push(b)
      held += b.events + b.feedback
    }
    const last = picked[picked.length - 1]
    if (!last) return []
    const lo = this.his(after)
    const evs = this.packed.events(this.st.eventRange.all(lo.eventsHi, last.eventsHi) as string[])
    const fbs = this.packed.feedback(this.st.feedbackRange.all(lo.feedbackHi, last.feedbackHi) as string[])
    const byPosition = new Map<number, CommittedBatch>()
    const out = picked.map((b) => {
      const c: CommittedBatch = { position: b.seq, committedMs: b.committedMs, events: [], feedback: [] }
      byPosition.set(b.seq, c)
      return c
    })
    for (const e of evs) byPosition.get(e.batch)?.events.push(e)
    for (const f of fbs) byPosition.get(f.batch)?.feedback.push(f)
    // Administrative records are batches of their own with no events or feedback.
    if (picked.some((b) => b.events === 0 && b.feedback === 0)) {
      for (const r of this.audit.recordsIn(after, last.seq)) {
        const b = byPosition.get(r.batch)
        if (b) (b.audit ??= []).push(r)
      }
    }
    return out
  }

  async *scanEvents(project: string, filter: EventFilter, bounds: ScanBounds, chunkSize = 1000): AsyncIterable<LoggedEvent[]> {
    const pages = this.pages(project, filter, bounds, PACKED_EVENT)
    if (!pages) return
    for (;;) {
      const rows = this.packed.events(pages.next(chunkSize))
      if (rows.length === 0) return
      pages.lo = rows[rows.length - 1]!.seq
      yield rows
      if (rows.length < chunkSize) return
    }
  }

  async *scanEventBodies(project: string, filter: EventFilter, bounds: ScanBounds, chunkSize = 1000): AsyncIterable<EventBody[]> {
    // Five columns: no indexed column decoded, one string per row.
    const pages = this.pages(project, filter, bounds, PACKED_EVENT_BODY)
    if (!pages) return
    for (;;) {
      const rows: EventBody[] = this.packed.eventBodies(pages.next(chunkSize))
      if (rows.length === 0) return
      pages.lo = rows[rows.length - 1]!.seq
      // Not `rows.length` after the yield: the chunk would stay referenced from this generator
      // while its consumer waits (a dataset build's backpressure), and a chunk held through young
      // collections gets its allocation sites pretenured, after which every row is promoted.
      const last = rows.length < chunkSize
      yield rows
      if (last) return
    }
  }

  /**
   * Pages of a scan: the rowid range up to `bounds`, narrowed with the indexes first when it is
   * longer than {@link NARROW_ABOVE_ROWS} (events arrive roughly in time order, so a model or time
   * filter usually covers a short range); then rowids are walked, every predicate rechecked, in
   * pages whose queries hold no cursor open between them.
   */
  private pages(project: string, filter: EventFilter, bounds: ScanBounds, packed: string) {
    const lo = this.his(bounds.after ?? 0).eventsHi
    const hi = this.his(bounds.upTo).eventsHi
    if (hi <= lo) return undefined
    // The narrowing walks every index entry of the model whatever the rowid range (~50 ms on 1M
    // events), so a short range (a parallel dataset build reads hundreds of them) is walked as it is.
    const span = hi - lo > NARROW_ABOVE_ROWS ? this.narrowed(project, filter, lo, hi) : { first: lo + 1, last: hi }
    if (!span) return undefined
    const w = eventWhere(project, filter, undefined, () => '?', true)
    const page = this.db
      .prepare(`SELECT ${packed} FROM events e WHERE e.seq > ? AND e.seq <= ? AND ${w.sql} ORDER BY e.seq LIMIT ?`)
      .pluck()
    const state = {
      lo: span.first - 1,
      next: (n: number): string[] => page.all(state.lo, span.last, ...w.params, n) as string[],
    }
    return state
  }

  /**
   * The first and last rowid in `(lo, hi]` of the events an index can pick out (model, versions,
   * time); undefined when there is none. Only the columns of an index (events_model_ts,
   * events_project_ts) narrow the range, so the min/max is read from index entries alone; the other
   * predicates would make SQLite fetch every matching row just to find the range (seconds on a
   * million events), and the pages recheck them.
   */
  private narrowed(project: string, filter: EventFilter, lo: number, hi: number): { first: number; last: number } | undefined {
    const narrow: EventFilter = {}
    for (const k of ['model', 'version', 'versions', 'fromMs', 'toMs'] as const)
      if (filter[k] !== undefined) (narrow as Record<string, unknown>)[k] = filter[k]
    const indexed = eventWhere(project, narrow, undefined, () => '?')
    const r = this.db
      .prepare(`SELECT min(e.seq) AS lo, max(e.seq) AS hi FROM events e WHERE ${indexed.sql} AND e.seq > ? AND e.seq <= ?`)
      .get(...indexed.params, lo, hi) as { lo: number | null; hi: number | null }
    return r.lo === null || r.hi === null ? undefined : { first: r.lo, last: r.hi }
  }

  async shadowsFor(project: string, primaryIds: readonly string[], upTo: number): Promise<LoggedEvent[]> {
    if (primaryIds.length === 0) return []
    return this.packed.events(this.st.shadowsOf.all(project, JSON.stringify(primaryIds), this.his(upTo).eventsHi) as string[])
  }

  async eventsByIds(project: string, ids: readonly string[]): Promise<LoggedEvent[]> {
    if (ids.length === 0) return []
    return this.packed.events(this.st.eventsOf.all(project, JSON.stringify(ids)) as string[])
  }

  /**
   * Packed feedback rows of these events up to row `hi`: one walk of their id range when the range
   * is dense (see id-span.ts; rows of other events in it are dropped by the caller), else one index
   * probe per id.
   */
  private feedbackOfIds(
    project: string,
    eventIds: readonly string[],
    hi: number,
    byList: Database.Statement,
    bySpan: Database.Statement,
  ): { rows: string[]; spanned: boolean; increasing: boolean } {
    const span = idSpan(eventIds)
    if (span !== undefined) {
      const limit = spanLimit(eventIds.length)
      if ((this.st.eventsInSpan.get(project, span.lo, span.hi, limit + 1) as number) <= limit)
        return { rows: bySpan.all(project, span.lo, span.hi, hi) as string[], spanned: true, increasing: span.increasing }
    }
    return { rows: byList.all(project, JSON.stringify(eventIds), hi) as string[], spanned: false, increasing: false }
  }

  async feedbackForEvents(project: string, eventIds: readonly string[], upTo: number): Promise<LoggedFeedback[]> {
    if (eventIds.length === 0) return []
    const st = this.st
    const { rows, spanned } = this.feedbackOfIds(project, eventIds, this.his(upTo).feedbackHi, st.feedbackOf, st.feedbackOfSpan)
    const out = this.packed.feedback(rows)
    return spanned ? only(out, new Set(eventIds)) : out
  }

  async feedbackBodies(project: string, eventIds: readonly string[], upTo: number, names?: readonly string[]): Promise<FeedbackBody[]> {
    if (eventIds.length === 0) return []
    const st = this.st
    const { rows, spanned, increasing } = this.feedbackOfIds(
      project,
      eventIds,
      this.his(upTo).feedbackHi,
      st.feedbackBodies,
      st.feedbackBodiesOfSpan,
    )
    const all: FeedbackBody[] = this.packed.feedbackBodies(rows)
    if (spanned && increasing) return matchInIdOrder(all, eventIds, names)
    const ids = spanned ? new Set(eventIds) : undefined
    const wanted = names === undefined ? undefined : new Set(names)
    if (ids === undefined && wanted === undefined) return all
    const out: FeedbackBody[] = []
    for (const f of all) if ((ids === undefined || ids.has(f.eventId)) && (wanted === undefined || wanted.has(f.name))) out.push(f)
    return out
  }
}

/**
 * The feedback of a span's walk (`rows` in event id order) that belongs to `eventIds`, each item
 * given its event's position (`eventIndex`), by one merge of the two orders instead of a `Set` of
 * the ids: a hash and an equality test of ids cut out of packed rows (sliced strings, each test a
 * runtime call in V8) per item. Only for ids {@link idSpan} found strictly increasing (the caller
 * filters others by a `Set`): their UTF-16 order is then SQLite's.
 */
function matchInIdOrder(rows: FeedbackBody[], eventIds: readonly string[], names: readonly string[] | undefined): FeedbackBody[] {
  const n = eventIds.length
  let kept = 0
  let p = 0
  for (let j = 0; j < rows.length && p < n; j++) {
    const f = rows[j]!
    const id = f.eventId
    // Most rows belong to the event at `p` or the next one: equality with those two first (one
    // runtime call each), order only when neither matches (three or more).
    if (id !== eventIds[p]) {
      if (p + 1 < n && id === eventIds[p + 1]) p++
      else {
        if (id < eventIds[p]!) continue
        do p++
        while (p < n && eventIds[p]! < id)
        if (p === n || id !== eventIds[p]) continue
      }
    }
    if (names !== undefined && !names.includes(f.name)) continue
    f.eventIndex = p
    rows[kept++] = f
  }
  rows.length = kept
  return rows
}

/** The feedback of the events in `ids` (a span's walk also finds that of events between them). */
function only(rows: LoggedFeedback[], ids: ReadonlySet<string>): LoggedFeedback[] {
  let kept = 0
  for (const f of rows) if (ids.has(f.eventId)) rows[kept++] = f
  rows.length = kept
  return rows
}
