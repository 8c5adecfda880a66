import type { CompiledQuery, Kysely } from 'kysely'
import type { CompiledWrite } from '../store/store.js'

const SENTINEL = '\u0001inferlog-template:'

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
  private readonly slots: readonly ({ name: K } | { value: unknown })[]

  constructor(fields: readonly K[], build: (values: Record<K, string>) => { compile(): CompiledQuery }) {
    const standIns = {} as Record<K, string>
    for (const f of fields) standIns[f] = `${SENTINEL}${f}`
    const q = build(standIns).compile()
    this.sql = q.sql
    this.slots = q.parameters.map((p) =>
      typeof p === 'string' && p.startsWith(SENTINEL) ? { name: p.slice(SENTINEL.length) as K } : { value: p },
    )
  }

  /** The statement with `values` in its named parameters. */
  bind(values: Readonly<Record<K, unknown>>): CompiledWrite {
    const parameters = new Array<unknown>(this.slots.length)
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!
      parameters[i] = 'name' in s ? values[s.name] : s.value
    }
    return { sql: this.sql, parameters }
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
