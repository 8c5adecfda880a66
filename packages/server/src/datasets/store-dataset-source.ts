import type { DatasetSource, ErasedRecord, ScanBounds, ScanFilter, SourceEvent, SourceFeedback } from '@inferlog/datasets'
import type { ErasureLog, EventFilter, LogScanner } from '../store/store.js'

/** The part of a store a dataset build reads (tombstones, when the store keeps them). */
export type DatasetLog = Pick<LogScanner, 'commitHead' | 'scanEventBodies' | 'feedbackBodies'> & Partial<Pick<ErasureLog, 'scanTombstones'>>

/**
 * The dataset compiler's view of a store: commit positions as its batches, the store's streaming
 * scan of stored texts in commit order, and one feedback query per chunk of events (only the
 * feedback names the spec uses). Works on every store adapter; rows pass through unchanged.
 */
export function storeDatasetSource(log: DatasetLog): DatasetSource {
  const tombstones = log.scanTombstones?.bind(log)
  return {
    // What erasure and retention removed at or below the watermark, so a manifest records what a rebuild left out.
    ...(tombstones
      ? {
          async *erased(project: string, upToBatch: number): AsyncIterable<ErasedRecord[]> {
            for await (const chunk of tombstones(project, upToBatch)) yield chunk.map((t) => ({ kind: t.kind, id: t.id, batch: t.batch }))
          },
        }
      : {}),
    watermark: () => log.commitHead(),
    scanEvents(project: string, f: ScanFilter, bounds: ScanBounds, chunkSize?: number): AsyncIterable<SourceEvent[]> {
      const filter: EventFilter = {}
      if (f.model !== undefined) filter.model = f.model
      if (f.versions !== undefined) filter.versions = f.versions
      if (f.stage !== undefined) filter.stage = f.stage
      if (f.status !== undefined) filter.status = f.status
      if (f.fromMs !== undefined) filter.fromMs = f.fromMs
      if (f.toMs !== undefined) filter.toMs = f.toMs
      if (f.sessionId !== undefined) filter.sessionId = f.sessionId
      if (f.userId !== undefined) filter.userId = f.userId
      if (f.arm !== undefined) filter.arm = f.arm
      return log.scanEventBodies(project, filter, { after: bounds.afterBatch ?? 0, upTo: bounds.upToBatch }, chunkSize)
    },
    feedbackFor(project: string, eventIds: string[], upToBatch: number, names?: string[]): Promise<SourceFeedback[]> {
      return log.feedbackBodies(project, eventIds, upToBatch, names)
    },
  }
}
