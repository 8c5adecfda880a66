import { describe, expect, it } from 'vitest'
import { buildYoungGenerationMb } from './dataset-builds.js'

describe('build worker defaults', () => {
  it('gives row formats a large nursery and tabular formats a small one', () => {
    expect(buildYoungGenerationMb({ format: 'jsonl' })).toBe(96)
    expect(buildYoungGenerationMb({ format: 'parquet' })).toBe(24)
    expect(buildYoungGenerationMb('format: csv\nname: x')).toBe(24)
  })
})
