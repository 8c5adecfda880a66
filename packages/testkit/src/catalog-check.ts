import { decodeAggregate } from '@inferlog/analysis'
import Database from 'better-sqlite3'
import pg from 'pg'

/**
 * The commit feed's exactly-once check: the catalog consumer's counts beside a recount from the
 * raw rows. Equal maps mean every committed row was applied once, none skipped, none twice.
 */
export interface CatalogComparison {
  catalog: Record<string, number>
  recount: Record<string, number>
}

const CATALOG = `SELECT 'e|' || project || '|' || model || '|' || version AS k, events AS n FROM catalog_models
                 UNION ALL SELECT 'f|' || project || '|' || name, items FROM catalog_feedback`
const RECOUNT = `SELECT 'e|' || project || '|' || model || '|' || version AS k, count(*) AS n FROM events GROUP BY project, model, version
                 UNION ALL SELECT 'f|' || project || '|' || name, count(*) FROM feedback GROUP BY project, name`

const toMap = (rows: { k: string; n: number | string }[]) => Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]).sort())

/** Reads both sides from an embedded store's file. */
export function compareCatalogSqlite(file: string): CatalogComparison {
  const db = new Database(file, { readonly: true })
  try {
    return { catalog: toMap(db.prepare(CATALOG).all() as never), recount: toMap(db.prepare(RECOUNT).all() as never) }
  } finally {
    db.close()
  }
}

/** Reads both sides from a PostgreSQL schema. */
export async function compareCatalogPostgres(url: string, schema: string): Promise<CatalogComparison> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    await c.query(`SET search_path = ${schema}`)
    return { catalog: toMap((await c.query(CATALOG)).rows), recount: toMap((await c.query(RECOUNT)).rows) }
  } finally {
    await c.end()
  }
}

/**
 * Polls until the catalog has caught up with the rows (the feed lags a little), or `ms` (default
 * 30 000) passed; resolves with the last comparison. A read that fails (the consumer has not
 * created its tables yet) counts as not caught up; at the deadline its error is thrown.
 */
export async function waitCatalog(read: () => CatalogComparison | Promise<CatalogComparison>, ms = 30_000): Promise<CatalogComparison> {
  const end = Date.now() + ms
  for (;;) {
    let c: CatalogComparison | undefined
    try {
      c = await read()
    } catch (e) {
      if (Date.now() > end) throw e
    }
    if (c && (JSON.stringify(c.catalog) === JSON.stringify(c.recount) || Date.now() > end)) return c
    await new Promise((r) => setTimeout(r, 200))
  }
}

// The metrics consumer's day roll-up rows (every version, stage, arm and endpoint) beside it: each
// stored event counts once, and each event with a label of a name counts once as labeled.
const METRICS = `SELECT project, model, agg FROM metric_rows
                  WHERE grain = 'd' AND version = '*' AND stage = '*' AND arm = '*' AND endpoint = '*' AND dim_key = ''`
const METRICS_RECOUNT = `SELECT 'e|' || project || '|' || model AS k, count(*) AS n FROM events GROUP BY project, model
                 UNION ALL SELECT 'l|' || e.project || '|' || e.model || '|' || f.name, count(DISTINCT e.id)
                   FROM events e JOIN feedback f ON f.project = e.project AND f.event_id = e.id GROUP BY e.project, e.model, f.name`

function metricsMap(rows: { project: string; model: string; agg: string }[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const r of rows) {
    const agg = decodeAggregate(r.agg)
    const ek = `e|${r.project}|${r.model}`
    out[ek] = (out[ek] ?? 0) + agg.events.n
    for (const [name, l] of agg.labels) {
      const lk = `l|${r.project}|${r.model}|${name}`
      out[lk] = (out[lk] ?? 0) + l.labeled.n
    }
  }
  return Object.fromEntries(
    Object.entries(out)
      .filter(([, n]) => n > 0)
      .sort(),
  )
}

/** The metrics consumer's totals beside a recount, from an embedded store's file. */
export function compareMetricsSqlite(file: string): CatalogComparison {
  const db = new Database(file, { readonly: true })
  try {
    return { catalog: metricsMap(db.prepare(METRICS).all() as never), recount: toMap(db.prepare(METRICS_RECOUNT).all() as never) }
  } finally {
    db.close()
  }
}

/** The same from a PostgreSQL schema. */
export async function compareMetricsPostgres(url: string, schema: string): Promise<CatalogComparison> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    await c.query(`SET search_path = ${schema}`)
    return { catalog: metricsMap((await c.query(METRICS)).rows), recount: toMap((await c.query(METRICS_RECOUNT)).rows) }
  } finally {
    await c.end()
  }
}
