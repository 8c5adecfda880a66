import type { AuditActor } from '../audit/audit-records.js'
import type { LoggedEvent, LoggedFeedback, Store, TimePartition, TimePosition, Tombstone } from '../store/store.js'
import type { AppendAudit, LeafOf } from './erasure-service.js'
import type { RetentionPolicies, RetentionPolicy } from './retention-policies.js'

/** The parts of a store retention uses. */
export type RetentionStore = Pick<
  Store,
  'expiredEvents' | 'expiredFeedback' | 'partitionsBefore' | 'scanPartition' | 'dropPartitionWrites' | 'erasureWrites' | 'tombstonesOf'
>

/** Options of {@link RetentionService}. */
export interface RetentionServiceOptions {
  store: RetentionStore
  policies: Pick<RetentionPolicies, 'all'>
  appendAudit: AppendAudit
  leaf: LeafOf
  /** Most rows one audit record removes. Default 10 000. */
  rowsPerRecord?: number
  /** Epoch-ms clock. Default `Date.now`. */
  now?: () => number
}

/** What one run did (or, for a dry run, would do) for one project. */
export interface RetentionReport {
  project: string
  policy: RetentionPolicy
  /** Rows older than this were removed, RFC 3339. */
  cutoff: string
  removed: { events: number; feedback: number }
  /** Whole partitions dropped (PostgreSQL monthly tables), e.g. `events_202601`. */
  partitions: string[]
  /** Audit records written. */
  records: string[]
  dry_run?: true
}

type Row = { kind: 'event'; row: LoggedEvent } | { kind: 'feedback'; row: LoggedFeedback }

const DAY_MS = 86_400_000

/**
 * Applies retention policies: removes events (and, when the policy says so, feedback) older than
 * the project's number of days. On PostgreSQL a monthly partition that lies wholly before the
 * cutoff of every project with rows in it is dropped as a table; everything else goes row by row.
 * Either way each removed row keeps a tombstone with its leaf hash, and every part of a run is an
 * administrative record of the audit chain (type `retention`: who, when, policy, how many).
 */
export class RetentionService {
  private readonly perRecord: number
  private readonly now: () => number

  constructor(private readonly o: RetentionServiceOptions) {
    this.perRecord = o.rowsPerRecord ?? 10_000
    this.now = o.now ?? Date.now
  }

  /**
   * Runs the policies of `projects` (default: every project with a policy). A partition is dropped
   * only when every project holding rows in it is part of the run and lets them go.
   */
  async run(actor: AuditActor, o: { projects?: readonly string[]; dryRun?: boolean } = {}): Promise<RetentionReport[]> {
    const all = await this.o.policies.all()
    const now = this.now()
    const reports = new Map<string, RetentionReport>()
    for (const [project, policy] of all) {
      if (o.projects && !o.projects.includes(project)) continue
      reports.set(project, {
        project,
        policy,
        cutoff: new Date(now - policy.events_days * DAY_MS).toISOString(),
        removed: { events: 0, feedback: 0 },
        partitions: [],
        records: [],
        ...(o.dryRun ? { dry_run: true as const } : {}),
      })
    }
    if (reports.size === 0) return []
    const cutoffOf = (p: string) => Date.parse(reports.get(p)!.cutoff)
    if (!o.dryRun) {
      const latest = Math.max(...[...reports.keys()].map(cutoffOf))
      for (const part of await this.o.store.partitionsBefore(latest)) {
        const droppable =
          part.projects.length > 0 &&
          part.projects.every(
            (p) => reports.has(p) && cutoffOf(p) >= part.toMs && (part.kind === 'event' || reports.get(p)!.policy.feedback),
          )
        if (droppable) await this.dropPartition(part, reports, actor)
      }
    }
    for (const r of reports.values()) {
      await this.removeRows(r, 'event', actor, o.dryRun === true)
      if (r.policy.feedback) await this.removeRows(r, 'feedback', actor, o.dryRun === true)
    }
    return [...reports.values()]
  }

  /** Tombstones every row of a partition (records per project), then drops it in a last record. */
  private async dropPartition(part: TimePartition, reports: Map<string, RetentionReport>, actor: AuditActor): Promise<void> {
    let last = part.projects[part.projects.length - 1]!
    for await (const rows of this.o.store.scanPartition(part, this.perRecord)) {
      const byProject = new Map<string, Row[]>()
      for (const row of rows) {
        let list = byProject.get(row.project)
        if (!list) byProject.set(row.project, (list = []))
        list.push(part.kind === 'event' ? { kind: 'event', row: row as LoggedEvent } : { kind: 'feedback', row: row as LoggedFeedback })
      }
      for (const [project, list] of byProject) {
        const report = reports.get(project)!
        // Rows deleted with the table later; here only their tombstones (a retried drop skips those it has).
        const fresh = await this.untombstoned(project, part.kind, list)
        if (fresh.length > 0) {
          const rec = await this.record(report, actor, fresh, [], { partition: part.table })
          report.records.push(rec)
        }
        report.removed[part.kind === 'event' ? 'events' : 'feedback'] += list.length
        last = project
      }
    }
    const report = reports.get(last)!
    const rec = await this.o.appendAudit({
      project: last,
      type: 'retention',
      actor,
      reason: `retention policy: ${report.policy.events_days} days`,
      counts: { events: 0, feedback: 0 },
      details: { partition: part.table, dropped: true, cutoff: report.cutoff },
      writes: this.o.store.dropPartitionWrites(part),
      nowMs: this.now(),
    })
    report.records.push(rec.id)
    for (const p of part.projects) reports.get(p)!.partitions.push(part.table)
  }

  /** Removes the rows of one kind older than the report's cutoff, a record per `rowsPerRecord` rows. */
  private async removeRows(report: RetentionReport, kind: 'event' | 'feedback', actor: AuditActor, dryRun: boolean): Promise<void> {
    const cutoff = Date.parse(report.cutoff)
    let after: TimePosition | undefined
    let previous: string | undefined
    for (;;) {
      // Removed rows are gone from the next read; a dry run pages instead.
      const rows: Row[] =
        kind === 'event'
          ? (await this.o.store.expiredEvents(report.project, cutoff, this.perRecord, after)).map((row) => ({ kind, row }))
          : (await this.o.store.expiredFeedback(report.project, cutoff, this.perRecord, after)).map((row) => ({ kind, row }))
      if (rows.length === 0) return
      report.removed[kind === 'event' ? 'events' : 'feedback'] += rows.length
      if (dryRun) {
        const tail = rows[rows.length - 1]!.row
        after = { tsMs: tail.tsMs, seq: tail.seq }
        continue
      }
      // Each pass must remove what the previous one read: never spin on rows that stay.
      const first = `${rows[0]!.row.id}`
      if (first === previous) throw new Error(`retention: ${kind} ${report.project}/${first} was not removed`)
      previous = first
      // A row tombstoned by an interrupted partition drop is deleted without a second tombstone.
      const fresh = await this.untombstoned(report.project, kind, rows)
      report.records.push(await this.record(report, actor, fresh, rows, {}))
    }
  }

  private async untombstoned(project: string, kind: 'event' | 'feedback', rows: Row[]): Promise<Row[]> {
    const have = new Set(
      (
        await this.o.store.tombstonesOf(
          kind,
          project,
          rows.map((r) => r.row.id),
        )
      ).map((t) => t.id),
    )
    return have.size === 0 ? rows : rows.filter((r) => !have.has(r.row.id))
  }

  private async record(
    report: RetentionReport,
    actor: AuditActor,
    tombstoned: Row[],
    deleted: Row[],
    details: Record<string, unknown>,
  ): Promise<string> {
    const { project } = report
    const tombstones: Tombstone[] = tombstoned.map((r) => ({
      kind: r.kind,
      project,
      id: r.row.id,
      batch: r.row.batch,
      leaf: this.o.leaf(r.kind, r.row),
    }))
    const counts = { events: 0, feedback: 0 }
    for (const r of deleted.length > 0 ? deleted : tombstoned) counts[r.kind === 'event' ? 'events' : 'feedback']++
    const rec = await this.o.appendAudit({
      project,
      type: 'retention',
      actor,
      reason: `retention policy: ${report.policy.events_days} days`,
      counts,
      details: { cutoff: report.cutoff, events_days: report.policy.events_days, feedback: report.policy.feedback, ...details },
      tombstones,
      writes:
        deleted.length > 0
          ? this.o.store.erasureWrites(
              project,
              deleted.map((r) => ({ kind: r.kind, id: r.row.id })),
            )
          : [],
      nowMs: this.now(),
    })
    return rec.id
  }
}
