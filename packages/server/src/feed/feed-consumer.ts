import type { CompiledWrite, CommittedBatch, DerivedStore } from '../store/store.js'

/** What a consumer gets besides the batches. */
export interface FeedContext {
  /** Read access to derived data (the consumer's own tables included) and its dialect. */
  derived: DerivedStore
  /**
   * The watermark the step starts from (the batches are the ones after it), when a runner calls.
   * A consumer that keeps state between steps checks it against the position it last heard of
   * in {@link FeedConsumer.committed}.
   */
  from?: number
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
   * rewriting them after every commit, and one whose steps are cheap (the catalog) steps more
   * often than the runner's default. Default: the runner's `stepIntervalMs` (250).
   */
  readonly minStepIntervalMs?: number
  /** Creates or upgrades the consumer's tables (see `migrateDerived`); run before the first step. */
  prepare?(ctx: FeedContext): Promise<void>
  /** Writes that bring the derived state past `batches` (compiled with `ctx.derived.db`). */
  apply(batches: readonly CommittedBatch[], ctx: FeedContext): Promise<readonly CompiledWrite[]>
  /**
   * Told when the writes of the last `apply` committed with the watermark at `position`. A consumer
   * may keep derived state in memory between steps (hot aggregates) only as long as each step
   * starts from the position it was last told here: a step whose writes never commit (lost
   * compare-and-set, failure, crash) is never told, another process moving the watermark makes
   * `from` differ, and either way the kept state must be dropped and read back from the store.
   * The runner never runs two steps of one consumer at once.
   */
  committed?(position: number): void
}
