import type { PgPool } from './pg-types.js'

/** The partitioned tables, all ranged by `ts_ms`. */
export const PARTITIONED_TABLES = ['events', 'feedback'] as const

/** Options of {@link PartitionManager}. */
export interface PartitionWindowOptions {
  /** Months before the current one for which monthly partitions are created. Default 120. */
  monthsBack?: number
  /** Months after the current one for which monthly partitions are created. Default 3. */
  monthsAhead?: number
  /** Epoch-ms clock. Default `Date.now`. */
  now?: () => number
  /** Told when a month has to stay in the default partition. */
  onWarning?: (message: string) => void
}

/** UTC month index (years × 12 + month) of an epoch-ms time. */
export function monthOf(ms: number): number {
  const d = new Date(ms)
  return d.getUTCFullYear() * 12 + d.getUTCMonth()
}

function monthStartMs(month: number): number {
  return Date.UTC(Math.floor(month / 12), month % 12, 1)
}

function partitionName(table: string, month: number): string {
  const y = Math.floor(month / 12)
  const m = (month % 12) + 1
  return `${table}_${String(y).padStart(4, '0')}${String(m).padStart(2, '0')}`
}

/**
 * Creates monthly partitions on demand, before the transaction that writes into them (creating a
 * partition locks its parent, so doing it inside a write transaction would deadlock two writers).
 * Partitions are made only inside a window around the current month; anything outside lands in
 * the `DEFAULT` partition, as does a month whose partition could not be created because the default
 * partition already holds rows of it. Either way no row is ever refused.
 */
export class PartitionManager {
  /** Months known to be settled: a partition exists, or the month lives in the default partition. */
  private readonly known = new Set<number>()
  private readonly monthsBack: number
  private readonly monthsAhead: number
  private readonly now: () => number
  private readonly warn: (m: string) => void
  private loaded = false

  constructor(
    private readonly pool: PgPool,
    options: PartitionWindowOptions = {},
  ) {
    this.monthsBack = options.monthsBack ?? 120
    this.monthsAhead = options.monthsAhead ?? 3
    this.now = options.now ?? Date.now
    this.warn = options.onWarning ?? (() => {})
  }

  /** Months (as {@link monthOf}) of the given times that still need a look. */
  private missing(times: Iterable<number>): Set<number> {
    const out = new Set<number>()
    let lo = 0
    let hi = -1
    for (const t of times) {
      if (t >= lo && t < hi) continue
      const m = monthOf(t)
      lo = monthStartMs(m)
      hi = monthStartMs(m + 1)
      if (!this.known.has(m)) out.add(m)
    }
    return out
  }

  /** Makes sure every month of `times` has its partition (or is settled to the default one). */
  async ensure(times: Iterable<number>): Promise<void> {
    if (!this.loaded) await this.load()
    const months = this.missing(times)
    if (months.size === 0) return
    const current = monthOf(this.now())
    for (const m of [...months].sort((a, b) => a - b)) {
      if (m < current - this.monthsBack || m > current + this.monthsAhead) {
        this.known.add(m)
        continue
      }
      await this.create(m)
      // Pre-create the next month so the switch at month end does not wait on a lock.
      if (m + 1 <= current + this.monthsAhead && !this.known.has(m + 1)) await this.create(m + 1)
    }
  }

  /** Reads which monthly partitions exist already. */
  async load(): Promise<void> {
    const r = await this.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = 'events' AND p.relnamespace = current_schema()::regnamespace`,
    )
    for (const { name } of r.rows) {
      const match = /_(\d{4})(\d{2})$/.exec(name)
      if (match) this.known.add(Number(match[1]) * 12 + Number(match[2]) - 1)
    }
    this.loaded = true
  }

  private async create(month: number): Promise<void> {
    const from = monthStartMs(month)
    const to = monthStartMs(month + 1)
    const client = await this.pool.connect()
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await client.query('BEGIN')
          // Every writer may race to create the same month; one at a time, the rest see it done.
          await client.query(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.inferlog_partitions'))`)
          await client.query(`SET LOCAL lock_timeout = '5s'`)
          for (const table of PARTITIONED_TABLES) {
            await client.query(
              `CREATE TABLE IF NOT EXISTS ${partitionName(table, month)} PARTITION OF ${table} FOR VALUES FROM (${from}) TO (${to})`,
            )
          }
          await client.query('COMMIT')
          this.known.add(month)
          return
        } catch (e) {
          await client.query('ROLLBACK').catch(() => {})
          const code = (e as { code?: string }).code
          // 23514: the default partition already holds rows of this month; they stay there.
          if (code === '23514') {
            this.warn(
              `partition ${partitionName('events', month)} cannot be created because the default partition holds rows of that month; that month stays in the default partition`,
            )
            this.known.add(month)
            return
          }
          // 55P03 lock timeout, 40P01 deadlock: a long reader held the parent; try again, then give up for now.
          if ((code === '55P03' || code === '40P01') && attempt < 3) continue
          throw e
        }
      }
    } finally {
      client.release()
    }
  }
}
