import type { PipelineRow } from '../build/pipeline.js'
import type { WrittenFile } from './file-sink.js'
import type { PackedCells } from './packed-cells.js'

/** Writes pipeline rows in one format, one file per split. */
export interface FormatWriter {
  /** Writes what the row becomes; returns the number of output rows (0: skipped, reason counted in `skipped`). */
  write(row: PipelineRow): number
  /** Flushes and closes every file. */
  close(): WrittenFile[]
  /** Closes without syncing after a failure. */
  abandon(): void
  /** Why rows were skipped by the format (e.g. `no_messages`), by reason. */
  readonly skipped: Record<string, number>
  /**
   * Tabular formats: writes row `row` of cells made elsewhere (a range compiled on another
   * thread) as `write` would have written its row; returns the output rows (1).
   */
  writePacked?(split: string, cells: PackedCells, row: number): number
}

/** Counts one skip. */
export function skip(skipped: Record<string, number>, reason: string): 0 {
  skipped[reason] = (skipped[reason] ?? 0) + 1
  return 0
}
