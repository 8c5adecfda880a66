import type { DatasetSource, ErasedRecord, ScanBounds, ScanFilter, SourceEvent, SourceFeedback } from './dataset-source.js'

/** An event as the memory source indexes it. */
interface StoredEvent extends SourceEvent {
  model: string
  version: string
  stage: string
  status: string
  sessionId: string | undefined
  userId: string | undefined
  arm: string | undefined
}

interface Project {
  events: StoredEvent[]
  feedback: Map<string, SourceFeedback[]>
  erased: ErasedRecord[]
}

/** Options of {@link createMemorySource}. */
export interface MemorySourceOptions {
  /** Receipt time for items without `ts`; default `Date.now`. */
  clock?: () => number
}

/** A {@link DatasetSource} held in memory, with a way to commit batches: for tests and examples. */
export interface MemorySource extends DatasetSource {
  /**
   * Commits one batch: events and feedback as objects (stored as `JSON.stringify`) or JSON text (stored
   * as is). Returns the batch number (1, 2, ...). Items are not validated: give valid records.
   */
  commit(project: string, items: { events?: (object | string)[]; feedback?: (object | string)[] }): number
  /** Erases events (and their feedback) and feedback items by id, as an erasure or retention would. */
  erase(project: string, ids: string[]): void
}

type Obj = Record<string, unknown>
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

/** Creates an empty in-memory log. Batches share one counter across projects, as a store's do. */
export function createMemorySource(options: MemorySourceOptions = {}): MemorySource {
  const clock = options.clock ?? Date.now
  const projects = new Map<string, Project>()
  let batch = 0
  let seq = 0
  const projectOf = (name: string): Project => {
    let p = projects.get(name)
    if (!p) {
      p = { events: [], feedback: new Map(), erased: [] }
      projects.set(name, p)
    }
    return p
  }
  const timeOf = (v: unknown, now: number) => (typeof v === 'string' ? Date.parse(v) : now)
  const matches = (e: StoredEvent, f: ScanFilter, b: ScanBounds) =>
    e.batch <= b.upToBatch &&
    (b.afterBatch === undefined || e.batch > b.afterBatch) &&
    (f.model === undefined || e.model === f.model) &&
    (f.versions === undefined || f.versions.includes(e.version)) &&
    (f.stage === undefined || e.stage === f.stage) &&
    (f.status === undefined || e.status === f.status) &&
    (f.fromMs === undefined || e.tsMs >= f.fromMs) &&
    (f.toMs === undefined || e.tsMs < f.toMs) &&
    (f.sessionId === undefined || e.sessionId === f.sessionId) &&
    (f.userId === undefined || e.userId === f.userId) &&
    (f.arm === undefined || e.arm === f.arm)

  return {
    commit(project, items) {
      const p = projectOf(project)
      const now = clock()
      batch++
      for (const item of items.events ?? []) {
        const body = typeof item === 'string' ? item : JSON.stringify(item)
        const e = JSON.parse(body) as Obj
        const model = (e.model ?? {}) as Obj
        const trace = (e.trace ?? {}) as Obj
        const experiment = (((e.context ?? {}) as Obj).experiment ?? {}) as Obj
        p.events.push({
          id: e.id as string,
          batch,
          seq: ++seq,
          tsMs: timeOf(e.ts, now),
          body,
          model: model.name as string,
          version: model.version as string,
          stage: str(model.stage) ?? 'primary',
          status: str(e.status) ?? 'ok',
          sessionId: str(trace.session_id),
          userId: str(trace.user_id),
          arm: str(experiment.arm),
        })
      }
      for (const item of items.feedback ?? []) {
        const body = typeof item === 'string' ? item : JSON.stringify(item)
        const f = JSON.parse(body) as Obj
        const stored: SourceFeedback = {
          id: f.id as string,
          eventId: f.event_id as string,
          name: f.name as string,
          tsMs: timeOf(f.ts, now),
          batch,
          seq: ++seq,
          body,
        }
        const list = p.feedback.get(stored.eventId)
        if (list) list.push(stored)
        else p.feedback.set(stored.eventId, [stored])
      }
      return batch
    },
    erase(project, ids) {
      const p = projectOf(project)
      const gone = new Set(ids)
      const kept: StoredEvent[] = []
      for (const e of p.events) {
        if (!gone.has(e.id)) {
          kept.push(e)
          continue
        }
        p.erased.push({ kind: 'event', id: e.id, batch: e.batch })
        for (const f of p.feedback.get(e.id) ?? []) p.erased.push({ kind: 'feedback', id: f.id, batch: f.batch })
        p.feedback.delete(e.id)
      }
      p.events = kept
      for (const [eventId, list] of p.feedback) {
        const left = list.filter((f) => {
          if (!gone.has(f.id)) return true
          p.erased.push({ kind: 'feedback', id: f.id, batch: f.batch })
          return false
        })
        p.feedback.set(eventId, left)
      }
    },
    async watermark() {
      return batch
    },
    async *scanEvents(project, filter, bounds, chunkSize = 1000) {
      const events = projects.get(project)?.events ?? []
      let chunk: SourceEvent[] = []
      for (const e of events) {
        if (!matches(e, filter, bounds)) continue
        chunk.push({ id: e.id, batch: e.batch, seq: e.seq, tsMs: e.tsMs, body: e.body })
        if (chunk.length >= chunkSize) {
          yield chunk
          chunk = []
        }
      }
      if (chunk.length > 0) yield chunk
    },
    async feedbackFor(project, eventIds, upToBatch) {
      const p = projects.get(project)
      if (!p) return []
      const out: SourceFeedback[] = []
      for (const id of eventIds) for (const f of p.feedback.get(id) ?? []) if (f.batch <= upToBatch) out.push(f)
      return out
    },
    async *erased(project, upToBatch) {
      const list = (projects.get(project)?.erased ?? []).filter((r) => r.batch <= upToBatch)
      list.sort((a, b) => a.batch - b.batch || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      if (list.length > 0) yield list
    },
  }
}
