/**
 * Where a pipeline is in its life, shared by its parts (one field instead of a flag per part):
 * - `open`: normal operation;
 * - `closing`: `close()` is flushing: a failing batch is spooled at once instead of retried;
 * - `draining`: the flush is over; the spool gets one replay pass, which stops at the first failure;
 * - `stopped`: no more sends, retries or replays.
 */
export type LifecyclePhase = 'open' | 'closing' | 'draining' | 'stopped'

/** The shared phase holder. */
export interface Lifecycle {
  phase: LifecyclePhase
}
