import { InferlogSdkError, type SdkErrorCode } from '../errors.js'

/** Counters of a logger. Every item ends up in exactly one of sent, dropped, failed, rejected (or is still pending). */
export interface LoggerStats {
  /** Items (events + feedback) accepted into the in-memory queue. */
  enqueued: number
  /** Items the collector (or store) acknowledged, duplicates included. */
  sent: number
  /** Items lost to a capacity limit: full queue, spool eviction, or logged after close(). */
  dropped: number
  /** Items written to the disk spool (cumulative). */
  spooled: number
  /** Re-send attempts (requests) after a failed attempt, live and from the spool. */
  retried: number
  /** Items given up on: retries exhausted without a spool, non-retryable replies, serialization or spool failures. */
  failed: number
  /** Items waiting in memory. */
  queueDepth: number
  /** Items delivered from the spool (cumulative; included in `sent`). */
  replayed: number
  /** Items the collector refused one by one (207), never retried. */
  rejected: number
  /** Items the collector already had (a safe re-send; included in `sent`). */
  duplicates: number
  /** Events (and their feedback) left out by `sampling.rate`. */
  sampledOut: number
  /** Items taken from the queue and not yet acknowledged, spooled or given up. */
  inFlight: number
  /** Items and bytes currently in the disk spool. */
  spoolItems: number
  spoolBytes: number
  /** Requests that delivered a batch, and their body bytes (compressed). */
  requests: number
  bytesSent: number
}

/** The cumulative counters, kept by the pipeline's parts; the rest of {@link LoggerStats} is read at snapshot time. */
export type Counts = Omit<LoggerStats, 'queueDepth' | 'inFlight' | 'spoolItems' | 'spoolBytes'>

/** Fresh counters, all zero. */
export function newCounts(): Counts {
  return {
    enqueued: 0,
    sent: 0,
    dropped: 0,
    spooled: 0,
    retried: 0,
    failed: 0,
    replayed: 0,
    rejected: 0,
    duplicates: 0,
    sampledOut: 0,
    requests: 0,
    bytesSent: 0,
  }
}

/** Extra fields of a report (see {@link InferlogSdkError}). */
export type ReportExtra = ConstructorParameters<typeof InferlogSdkError>[2]

/** Hands a failure to `onError`. Never throws. */
export type Report = (code: SdkErrorCode, message: string, extra?: ReportExtra) => void

/** Wraps the host's handler so that a handler that throws never reaches the SDK's callers. */
export function createReport(handler: (error: InferlogSdkError) => void): Report {
  return (code, message, extra = {}) => {
    try {
      handler(new InferlogSdkError(code, message, extra))
    } catch {
      // The host's error handler failed: nothing more can be done without throwing into the host.
    }
  }
}
