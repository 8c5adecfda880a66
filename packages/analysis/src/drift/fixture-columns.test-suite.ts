import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { CategoricalColumn, Column } from '../fields/column.js'
import { numericalColumn } from '../fields/column.js'

/** A column as stored in the golden fixtures: numbers, or categories with their counts. */
export type FixtureColumn = { kind: 'numerical'; values: number[] } | { kind: 'categorical'; counts: [string, number][] }

/** Reads `packages/analysis/fixtures/NAME` (written by scripts/make-drift-fixtures.py). */
export function readFixture<T>(name: string): T {
  const path = fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url))
  return (JSON.parse(readFileSync(path, 'utf8')) as { cases: T }).cases
}

/** Builds a column from its fixture form (categories expanded in first-seen order). */
export function fixtureColumn(c: FixtureColumn): Column {
  if (c.kind === 'numerical') return numericalColumn(Float64Array.from(c.values))
  const total = c.counts.reduce((s, [, n]) => s + n, 0)
  const codes = new Int32Array(total)
  let k = 0
  c.counts.forEach(([, n], code) => {
    codes.fill(code, k, k + n)
    k += n
  })
  const col: CategoricalColumn = { kind: 'categorical', length: total, codes, dictionary: c.counts.map(([v]) => v) }
  return col
}

/** |actual − expected| ≤ rel·|expected|; `null` (±∞) and exact zeros must match exactly. */
export function relClose(actual: number | null | undefined, expected: number | null | undefined, rel = 1e-6): boolean {
  if (expected === null || expected === undefined || actual === null || actual === undefined) return actual === expected
  if (expected === 0) return actual === 0
  return Math.abs(actual - expected) <= rel * Math.abs(expected)
}
