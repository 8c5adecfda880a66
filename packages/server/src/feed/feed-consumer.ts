import type { CompiledWrite, CommittedBatch, DerivedStore } from '../store/store.js'

/** What a consumer gets besides the batches. */
export interface FeedContext {
  /** Read access to derived data (the consumer's own tables included) and its dialect. */
  derived: DerivedStore
}

/**
 * A reader that derives state from committed batches (aggregates, profiles, the audit chain).
 * It sees every committed batch exactly once, in commit order: the runner moves its watermark in
 * the same transaction as the writes `apply` returns, so a crash at any instant neither skips nor
 * repeats a batch. `apply` must not write anything itself (return the writes instead) and may be
 * called again for the same batches if a previous call's writes never committed.
 */
export interface FeedConsumer {
  /** Stable name: the key of its watermark. */
  readonly name: string
  /**
   * Least time between the starts of two steps that are not catching up, ms: a consumer whose
   * step rewrites large rows (profiles) gathers a second of commits into one step instead of
   * rewriting them after every commit. Default 0 (step after every commit).
   */
  readonly minStepIntervalMs?: number
  /** Creates or upgrades the consumer's tables (see `migrateDerived`); run before the first step. */
  prepare?(ctx: FeedContext): Promise<void>
  /** Writes that bring the derived state past `batches` (compiled with `ctx.derived.db`). */
  apply(batches: readonly CommittedBatch[], ctx: FeedContext): Promise<readonly CompiledWrite[]>
}
