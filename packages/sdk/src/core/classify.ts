import type { SendResult } from './platform.js'

/** What to do with a transport result. */
export type Verdict = 'ok' | 'split' | 'retry' | 'fatal'

/**
 * Classifies a send: 200/207 delivered; 413 (body or item count over a limit) split the batch;
 * network faults (unless marked `fatal`), 408, 425, 429 and 5xx retried; anything else (400, 401, 403, 404…) is fatal for
 * the batch and reported.
 */
export function classify(res: SendResult | undefined, err?: unknown): Verdict {
  if (res === undefined) return (err as { fatal?: unknown } | undefined)?.fatal === true ? 'fatal' : 'retry'
  const s = res.status
  if (s === 200 || s === 207) return 'ok'
  if (s === 413 || res.errorCode === 'too_many_items' || res.errorCode === 'payload_too_large') return 'split'
  if (s === 408 || s === 425 || s === 429 || s >= 500) return 'retry'
  return 'fatal'
}
