import type { BatchMerkle } from '../store/ports/log-scanner.js'
import type { EventLeafRow, FeedbackLeafRow, LeafHasher } from './leaf-hash.js'
import { merkleRoot, sortLeaves } from './merkle.js'

/**
 * The Merkle leaves and root of a batch of freshly inserted rows (no tombstones, no
 * administrative records): what the audit chain consumer would compute reading the batch back.
 * The SQLite writer calls it while it holds the rows, so the chain's hashing happens beside the
 * insert instead of on the collector's event loop after a read-back. The caller makes sure each
 * row's text is stored exactly as given (see `wellFormedRow`).
 */
export function batchMerkle(events: readonly EventLeafRow[], feedback: readonly FeedbackLeafRow[], hasher: LeafHasher): BatchMerkle {
  const leaves: Buffer[] = new Array(events.length + feedback.length)
  let n = 0
  for (const e of events) leaves[n++] = hasher.hash('event', e)
  for (const f of feedback) leaves[n++] = hasher.hash('feedback', f)
  sortLeaves(leaves)
  return { leaves: Buffer.concat(leaves), root: merkleRoot(leaves) }
}
