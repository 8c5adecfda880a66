import type { EmbeddingColumn } from '../fields/column.js'
import { type Random, sampleIndices } from './random.js'

/** The present rows of an embedding column as one dense row-major matrix. */
export interface EmbeddingMatrix {
  rows: number
  dim: number
  data: Float32Array
}

/**
 * Copies the present rows of `column` into a dense matrix, keeping at most `maxRows` of them
 * (a seeded uniform sample without replacement) when `maxRows` is given.
 */
export function embeddingMatrix(column: EmbeddingColumn, maxRows?: number, random?: Random): EmbeddingMatrix {
  const dim = column.dim
  const idx: number[] = []
  for (let i = 0; i < column.length; i++) if (column.present[i]) idx.push(i)
  let chosen: ArrayLike<number> = idx
  if (maxRows !== undefined && idx.length > maxRows && random) {
    const pick = sampleIndices(idx.length, maxRows, random)
    chosen = Array.from(pick, (k) => idx[k]!)
  }
  const data = new Float32Array(chosen.length * dim)
  for (let r = 0; r < chosen.length; r++) data.set(column.data.subarray(chosen[r]! * dim, chosen[r]! * dim + dim), r * dim)
  return { rows: chosen.length, dim, data }
}

/** Mean row, accumulated in double precision. */
export function meanRow(m: EmbeddingMatrix): Float64Array {
  const mean = new Float64Array(m.dim)
  for (let r = 0; r < m.rows; r++) {
    const base = r * m.dim
    for (let j = 0; j < m.dim; j++) mean[j]! += m.data[base + j]!
  }
  for (let j = 0; j < m.dim; j++) mean[j]! /= m.rows
  return mean
}

/** One column of the matrix as doubles. */
export function matrixColumn(m: EmbeddingMatrix, j: number): Float64Array {
  const out = new Float64Array(m.rows)
  for (let r = 0; r < m.rows; r++) out[r] = m.data[r * m.dim + j]!
  return out
}
