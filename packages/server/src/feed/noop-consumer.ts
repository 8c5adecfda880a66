import type { CompiledWrite, CommittedBatch } from '../store/store.js'
import type { FeedConsumer } from './feed-consumer.js'

/**
 * A consumer that reads every committed batch and derives nothing: only its watermark moves. It
 * costs what the feed itself costs a process (reading batches back, one watermark commit per
 * step), which is what `bench:feed` measures against running no consumer at all. Never part of
 * `all`; chosen by name (`INFERLOG_CONSUMERS=noop`).
 */
export class NoopConsumer implements FeedConsumer {
  readonly name = 'noop'
  /** Steps as often as the lightest real consumer (the catalog), so the bench measures that pace's cost. */
  readonly minStepIntervalMs = 50

  async apply(_batches: readonly CommittedBatch[]): Promise<readonly CompiledWrite[]> {
    return []
  }
}
