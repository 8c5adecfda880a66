import type { DatasetSource } from '../source/dataset-source.js'
import { compileRange, type RangeCompiler, type RangeJob, type RangePiece } from './compile-range.js'
import { PieceChannel } from './piece-channel.js'

/** Options of {@link localRangeCompiler}. */
export interface LocalRangeCompilerOptions {
  /** Ranges compiled at once; default 2. */
  workers?: number
  /** Pieces a range may hold ready ahead of the build; default 4. */
  ahead?: number
}

/**
 * A {@link RangeCompiler} on the calling thread: up to `workers` ranges compiled concurrently
 * over `source`, interleaved at their awaits (the source's reads overlap; the CPU work does not).
 * For tests of the parallel build's ordering rules, and for sources whose reads are mostly waiting.
 * Worker threads are the server's (`DatasetBuilds({ workers })`).
 */
export function localRangeCompiler(source: DatasetSource, o: LocalRangeCompilerOptions = {}): RangeCompiler {
  const workers = o.workers ?? 2
  let running = 0
  const waiting: (() => void)[] = []
  return {
    workers,
    compile(job: RangeJob): AsyncIterable<RangePiece> {
      const channel = new PieceChannel(o.ahead ?? 4)
      void (async () => {
        if (running >= workers) await new Promise<void>((r) => waiting.push(r))
        running++
        try {
          if (!channel.closed) await compileRange(source, job, (piece) => channel.push(piece))
          channel.end()
        } catch (e) {
          channel.fail(e)
        } finally {
          running--
          waiting.shift()?.()
        }
      })()
      return channel
    },
  }
}
