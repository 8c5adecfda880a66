import type { DatasetSource, ErasedRecord, ScanBounds, ScanFilter, SourceEvent, SourceFeedback } from '@inferlog/datasets'
import type { ErasureLog, EventFilter, LogScanner } from '../store/store.js'

/**
 * The dataset compiler's view of a store: commit positions as its batches, the store's streaming
 * scan in commit order, and one feedback query per chunk of events. Works on every store adapter.
 */
export function storeDatasetSource(
  log: Pick<LogScanner, 'commitHead' | 'scanEvents' | 'feedbackForEvents'> & Partial<Pick<ErasureLog, 'scanTombstones'>>,
): DatasetSource {
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
    async *scanEvents(project: string, f: ScanFilter, bounds: ScanBounds, chunkSize?: number): AsyncIterable<SourceEvent[]> {
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
      for await (const chunk of log.scanEvents(project, filter, { after: bounds.afterBatch ?? 0, upTo: bounds.upToBatch }, chunkSize)) {
        yield chunk.map((e) => ({ id: e.id, batch: e.batch, seq: e.seq, tsMs: e.tsMs, body: e.body }))
      }
    },
    async feedbackFor(project: string, eventIds: string[], upToBatch: number): Promise<SourceFeedback[]> {
      const rows = await log.feedbackForEvents(project, eventIds, upToBatch)
      return rows.map((f) => ({ id: f.id, eventId: f.eventId, name: f.name, tsMs: f.tsMs, batch: f.batch, seq: f.seq, body: f.body }))
    },
  }
}
