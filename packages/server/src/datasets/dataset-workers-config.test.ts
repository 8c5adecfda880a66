import { describe, expect, it } from 'vitest'
import { resolveServerConfig } from '../config.js'
import { defaultDatasetWorkers } from './thread-range-compiler.js'

describe('dataset build workers setting', () => {
  it('reads INFERLOG_DATASET_WORKERS, leaves the default to DatasetBuilds, rejects non-positive values', () => {
    expect(resolveServerConfig({}, {}).datasetWorkers).toBeUndefined()
    expect(resolveServerConfig({}, { INFERLOG_DATASET_WORKERS: '3' }).datasetWorkers).toBe(3)
    expect(resolveServerConfig({ datasetWorkers: 1 }, { INFERLOG_DATASET_WORKERS: '3' }).datasetWorkers).toBe(1)
    expect(() => resolveServerConfig({}, { INFERLOG_DATASET_WORKERS: '0' })).toThrow(/INFERLOG_DATASET_WORKERS/)
    expect(defaultDatasetWorkers()).toBeGreaterThanOrEqual(1)
    expect(defaultDatasetWorkers()).toBeLessThanOrEqual(2)
  })
})
