import { describe, expect, it } from 'vitest'
import { type Cell } from './tabular-layout.js'
import { CellColumns, cellAt, packedBuffers } from './packed-cells.js'

describe('packed cells', () => {
  it('give back every cell: numbers, bigints, booleans, strings coded when few are distinct, as they are when not', () => {
    const cols = new CellColumns(['double', 'int64', 'boolean', 'string', 'string', 'timestamp'])
    const rows: Cell[][] = []
    for (let i = 0; i < 200; i++) {
      const row: Cell[] = [
        i % 7 === 0 ? null : i / 3,
        i % 5 === 0 ? null : BigInt(i),
        i % 3 === 0 ? null : i % 2 === 0,
        i % 11 === 0 ? null : ['eu', 'us', 'apac'][i % 3]!,
        `id-${i}`,
        1_700_000_000_000 + i,
      ]
      rows.push(row)
      cols.add(row)
    }
    const packed = cols.pack()
    expect(packed.columns.map((c) => c.kind)).toEqual(['number', 'bigint', 'boolean', 'coded', 'string', 'number'])
    for (let r = 0; r < rows.length; r++) expect(packed.columns.map((c) => cellAt(c, r))).toEqual(rows[r])
    // Values and null masks of the numbers and bigints, the booleans, the codes: transferred; the strings are cloned.
    expect(packedBuffers(packed)).toHaveLength(7)
    expect(cols.rows).toBe(0)
  })
})
