import type { FeedProgress } from './feed-runner.js'

/**
 * What a process that commits to the log drives its feed consumers through, whether they run on
 * its own event loop ({@link FeedRunner}) or in a thread of their own ({@link FeedThread}).
 */
export interface CommitFeed {
  /** Starts the consumers. Idempotent. */
  start(): void
  /** New batches were committed: consumers look now instead of at their next poll. */
  poke(): void
  /** Stops the consumers after their current step. Idempotent. */
  stop(): Promise<void>
  /** Where each consumer stands (after its first step). */
  status(): ReadonlyMap<string, FeedProgress>
}
