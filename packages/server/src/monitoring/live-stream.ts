import type { EventFilter, LoggedEvent, LogScanner } from '../store/store.js'

/** A position in the live stream: after event `index` (0-based, among the matching ones) of batch `position`. */
export interface StreamCursor {
  position: number
  /** Matching events of that batch already sent; -1 when the whole batch was sent. */
  index: number
}

/** Reads `Last-Event-ID` (`POSITION.INDEX`, or a bare position meaning the whole batch was sent). */
export function parseStreamCursor(s: string | undefined): StreamCursor | undefined {
  if (s === undefined || s === '') return undefined
  const m = /^(\d{1,15})(?:\.(\d{1,9}))?$/.exec(s.trim())
  if (!m) return undefined
  return { position: Number(m[1]), index: m[2] === undefined ? -1 : Number(m[2]) }
}

/** True when a logged event passes the stream's filter (the columns the log keeps). */
export function matchesStreamFilter(e: LoggedEvent, f: EventFilter): boolean {
  return (
    (f.model === undefined || e.model === f.model) &&
    (f.version === undefined || e.version === f.version) &&
    (f.versions === undefined || f.versions.includes(e.version)) &&
    (f.stage === undefined || e.stage === f.stage) &&
    (f.status === undefined || e.status === f.status) &&
    (f.arm === undefined || e.arm === f.arm) &&
    (f.sessionId === undefined || e.sessionId === f.sessionId) &&
    (f.userId === undefined || e.userId === f.userId) &&
    (f.fromMs === undefined || e.tsMs >= f.fromMs) &&
    (f.toMs === undefined || e.tsMs < f.toMs)
  )
}

/** Options of {@link LiveStream}. */
export interface LiveStreamOptions {
  /** How often subscribers look for new batches without a commit cue, ms. Default 250. */
  pollMs?: number
  /** A subscriber this many positions behind the head is dropped (it cannot keep up). Default 5 000. */
  maxLagBatches?: number
  /** Most subscribers at once; more get 503. Default 100. */
  maxSubscribers?: number
}

/**
 * The live stream's one piece of shared state: who is listening and when something new was
 * committed. Each subscriber follows the commit feed from its own cursor (resumable exactly from
 * `Last-Event-ID`), so nothing is buffered per subscriber beyond one read.
 */
export class LiveStream {
  private waiters: (() => void)[] = []
  private subscribers = 0
  readonly pollMs: number
  readonly maxLagBatches: number
  readonly maxSubscribers: number

  constructor(
    readonly log: Pick<LogScanner, 'readBatches' | 'commitHead'>,
    o: LiveStreamOptions = {},
  ) {
    this.pollMs = o.pollMs ?? 250
    this.maxLagBatches = o.maxLagBatches ?? 5_000
    this.maxSubscribers = o.maxSubscribers ?? 100
  }

  /** Something was committed: wake every subscriber now. */
  poke(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  /** Resolves at the next commit cue or after the poll interval. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, this.pollMs)
      function done() {
        clearTimeout(t)
        resolve()
      }
      this.waiters.push(done)
    })
  }

  /** Takes a subscriber slot, or false when all are taken. */
  join(): boolean {
    if (this.subscribers >= this.maxSubscribers) return false
    this.subscribers++
    return true
  }

  leave(): void {
    this.subscribers--
  }
}
