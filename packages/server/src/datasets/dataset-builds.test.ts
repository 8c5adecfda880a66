import { describe, expect, it } from 'vitest'
import { buildChunkSize, buildYoungGenerationMb } from './dataset-builds.js'

describe('build worker defaults', () => {
  it('reads PostgreSQL in larger chunks than SQLite', () => {
    expect(buildChunkSize('postgres://u@h/db')).toBe(2000)
    expect(buildChunkSize('postgresql://u@h/db?schema=s')).toBe(2000)
    expect(buildChunkSize('sqlite:/tmp/x.db')).toBeUndefined()
    expect(buildChunkSize(undefined)).toBeUndefined()
  })

  it('gives row formats a large nursery and tabular formats a small one', () => {
    expect(buildYoungGenerationMb({ format: 'jsonl' })).toBe(96)
    expect(buildYoungGenerationMb({ format: 'parquet' })).toBe(24)
    expect(buildYoungGenerationMb('format: csv\nname: x')).toBe(24)
  })
})
