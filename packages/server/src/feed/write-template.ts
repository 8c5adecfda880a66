import type { CompiledQuery, Kysely } from 'kysely'
import type { CompiledWrite } from '../store/store.js'

const SENTINEL = '\u0001inferlog-template:'

type Slot<K> = { name: K; row: number } | { value: unknown }

/** Compiles `build` over stand-ins for `rows` rows of `fields`: its SQL and where each parameter comes from. */
function compileSlots<K extends string>(
  fields: readonly K[],
  rows: number,
  build: (rows: Record<K, string>[]) => { compile(): CompiledQuery },
): { sql: string; slots: readonly Slot<K>[] } {
  const standIns: Record<K, string>[] = []
  for (let r = 0; r < rows; r++) {
    const row = {} as Record<K, string>
    for (const f of fields) row[f] = `${SENTINEL}${r}:${f}`
    standIns.push(row)
  }
  const q = build(standIns).compile()
  const slots = q.parameters.map((p): Slot<K> => {
    if (typeof p !== 'string' || !p.startsWith(SENTINEL)) return { value: p }
    const rest = p.slice(SENTINEL.length)
    const colon = rest.indexOf(':')
    return { row: Number(rest.slice(0, colon)), name: rest.slice(colon + 1) as K }
  })
  return { sql: q.sql, slots }
}

function bindSlots<K extends string>(
  sql: string,
  slots: readonly Slot<K>[],
  rows: readonly Readonly<Record<K, unknown>>[],
  at: number,
): CompiledWrite {
  const parameters = new Array<unknown>(slots.length)
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]!
    parameters[i] = 'name' in s ? rows[at + s.row]![s.name] : s.value
  }
  return { sql, parameters }
}

/**
 * A write statement compiled once and bound many times: a consumer that upserts hundreds of rows
 * per step skips Kysely's per-row build and compile, and every bound write has the same SQL text,
 * so the store reuses one prepared statement. `build` is called once with a stand-in for each
 * named value (a unique string); the parameters that come back as a stand-in take the bound
 * value, every other parameter (constants of the statement) is kept as compiled.
 */
export class WriteTemplate<K extends string> {
  private readonly sql: string
  /** Per parameter: the name it is bound from, or the constant it had when compiled. */
  private readonly slots: readonly Slot<K>[]

  constructor(fields: readonly K[], build: (values: Record<K, string>) => { compile(): CompiledQuery }) {
    const c = compileSlots(fields, 1, (rows) => build(rows[0]!))
    this.sql = c.sql
    this.slots = c.slots
  }

  /** The statement with `values` in its named parameters. */
  bind(values: Readonly<Record<K, unknown>>): CompiledWrite {
    return bindSlots(this.sql, this.slots, [values], 0)
  }
}

/** Options of {@link RowsTemplate}. */
export interface RowsTemplateOptions {
  /**
   * Most rows in one statement. Default 256; fewer when the rows' parameters would pass 30 000
   * (SQLite allows 32 766 per statement, PostgreSQL 65 535).
   */
  maxRows?: number
}

/** Most parameters one statement of a {@link RowsTemplate} binds: under SQLite's 32 766. */
const MAX_PARAMETERS = 30_000

/**
 * A multi-row write (`INSERT … VALUES (…), (…) [ON CONFLICT … DO UPDATE SET col = excluded.col]`)
 * compiled once per row count and bound many times: the rows of a step go to the store in a few
 * statements instead of one each. On PostgreSQL every statement is a round trip and a parse, so a
 * consumer that upserted 2 000 label states per step spent most of its step on them (one worker,
 * `bench/feed.js scaleout`). `build` is called with stand-in rows (as {@link WriteTemplate}'s);
 * it must give each row's values to the statement as they come, and an upsert must take updated
 * values from `excluded`, not from the stand-ins. The rows of one {@link bind} must differ in the
 * conflict key: PostgreSQL refuses to update one row twice in a statement.
 *
 * Statements hold `maxRows` rows; what is left over goes in statements of a power of two rows
 * each, so that at most about log2(`maxRows`) + 1 SQL texts are ever compiled and cached.
 */
export class RowsTemplate<K extends string> {
  private readonly compiled = new Map<number, { sql: string; slots: readonly Slot<K>[] }>()
  private readonly maxRows: number

  constructor(
    private readonly fields: readonly K[],
    private readonly build: (rows: Record<K, string>[]) => { compile(): CompiledQuery },
    o: RowsTemplateOptions = {},
  ) {
    const perRow = Math.max(1, this.statement(1).slots.length)
    const limit = Math.max(1, Math.floor(MAX_PARAMETERS / perRow))
    let max = 1
    // A power of two, so that the leftover sizes (powers of two below it) reach it exactly.
    while (max * 2 <= Math.min(o.maxRows ?? 256, limit)) max *= 2
    this.maxRows = max
  }

  /** The statements that write `rows`, in order; none for no rows. */
  bind(rows: readonly Readonly<Record<K, unknown>>[]): CompiledWrite[] {
    const out: CompiledWrite[] = []
    let at = 0
    while (at < rows.length) {
      let n = this.maxRows
      while (n > rows.length - at) n /= 2
      const st = this.statement(n)
      out.push(bindSlots(st.sql, st.slots, rows, at))
      at += n
    }
    return out
  }

  private statement(n: number): { sql: string; slots: readonly Slot<K>[] } {
    let st = this.compiled.get(n)
    if (!st) this.compiled.set(n, (st = compileSlots(this.fields, n, this.build)))
    return st
  }
}

/**
 * Statements compiled once for the query builder (the store's dialect) they are first asked for,
 * and again only when asked for another one: a consumer or reader keeps one of these per set of
 * templates instead of comparing builders itself.
 */
export class CompiledFor<T> {
  private last: { db: Kysely<any>; value: T } | undefined

  constructor(private readonly compile: (db: Kysely<any>) => T) {}

  /** The statements for `db`, compiled now if `db` is not the builder they were compiled for. */
  get(db: Kysely<any>): T {
    if (this.last?.db !== db) this.last = { db, value: this.compile(db) }
    return this.last.value
  }
}
