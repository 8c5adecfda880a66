import type { WriteBatch, WriteOutcome, WriteResult } from '../store/store.js'
import type { Queue } from './queue.js'

/**
 * The collector's write target in scale-out mode: the group commit hands it the items of the
 * requests that arrived together, it publishes them as one group and resolves once the queue
 * acknowledged. Every item is then reported `inserted` (accepted): whether it turns out a
 * duplicate or a conflict is decided by the worker against the store, which records conflicts in
 * its `conflicts` table.
 */
export class QueueWriter {
  /** A publish is not a commit to the log: the worker's commit is, and it tells the feed. */
  readonly commitsToLog = false

  constructor(private readonly queue: Queue) {}

  async writeBatch(batch: WriteBatch): Promise<WriteResult> {
    await this.queue.publish(batch)
    const accepted = (n: number): WriteOutcome[] => new Array<WriteOutcome>(n).fill('inserted')
    return { batchSeq: 0, events: accepted(batch.events.length), feedback: accepted(batch.feedback.length) }
  }

  ping(): Promise<void> {
    return this.queue.ping()
  }
}
