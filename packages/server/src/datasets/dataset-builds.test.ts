import { describe, expect, it } from 'vitest'
import { buildThreads, buildYoungGenerationMb } from './dataset-builds.js'
import { defaultDatasetWorkers } from './thread-range-compiler.js'

describe('build worker defaults', () => {
  it('gives row formats a large nursery and tabular formats a small one', () => {
    expect(buildYoungGenerationMb({ format: 'jsonl' })).toBe(96)
    expect(buildYoungGenerationMb({ format: 'parquet' })).toBe(24)
    expect(buildYoungGenerationMb('format: csv\nname: x')).toBe(24)
  })
})

describe('build threads', () => {
  const sqlite = 'sqlite:/var/lib/inferlog/inferlog.db'
  const pg = 'postgres://127.0.0.1/inferlog'
  it('reads ahead for a parquet build on a SQLite file by default, with one compiler', () => {
    expect(buildThreads({ format: 'parquet' }, sqlite, {})).toEqual({ readAhead: true, workers: 1 })
    expect(buildThreads('format: parquet\nname: x', sqlite, {})).toEqual({ readAhead: true, workers: 1 })
  })
  it('keeps one thread where reading ahead was not measured or cannot run, or when told', () => {
    expect(buildThreads({ format: 'parquet' }, pg, {})).toEqual({ readAhead: false, workers: 1 })
    expect(buildThreads({ format: 'parquet' }, 'sqlite::memory:', {})).toEqual({ readAhead: false, workers: 1 })
    expect(buildThreads({ format: 'parquet' }, sqlite, { readAhead: false })).toEqual({ readAhead: false, workers: 1 })
    // Range threads asked for parquet: they, not a reader.
    expect(buildThreads({ format: 'parquet' }, sqlite, { parquetWorkers: 2 })).toEqual({ readAhead: false, workers: 2 })
  })
  it('gives line formats range threads, and reads ahead only when told', () => {
    expect(buildThreads({ format: 'jsonl' }, sqlite, {})).toEqual({ readAhead: false, workers: defaultDatasetWorkers() })
    expect(buildThreads({ format: 'csv' }, sqlite, { workers: 3 })).toEqual({ readAhead: false, workers: 3 })
    expect(buildThreads({ format: 'jsonl' }, pg, { readAhead: true, workers: 2 })).toEqual({ readAhead: true, workers: 1 })
  })
})
