import type { KeyObject } from 'node:crypto'
import type { Logger } from '../logging/logger.js'
import type { DerivedStore } from '../store/store.js'
import { ensureAuditTables, sealedHead } from './audit-chain-consumer.js'
import { type Checkpoint, signCheckpoint } from './checkpoint.js'
import { latestCheckpoint } from './sealed-batches.js'

/** Default of {@link AuditCheckpointerOptions.intervalMs}: 10 s. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 10_000

/** Options of {@link AuditCheckpointer}. */
export interface AuditCheckpointerOptions {
  /** The operator's Ed25519 private key (`--audit-key`). */
  key: KeyObject
  /** How often the sealed head is signed when it moved, ms. Default {@link DEFAULT_CHECKPOINT_INTERVAL_MS} (10 000). */
  intervalMs?: number
  /** Epoch-ms clock. Default `Date.now`. */
  now?: () => number
  logger?: Logger
}

/**
 * Signs the chain's head at an interval: when the sealed head moved since the last checkpoint, a
 * new checkpoint (batch, index, rows, head, time) signed with the operator's key is stored. Safe
 * to run in several processes with the same key (one checkpoint per chain index; the others'
 * inserts do nothing).
 */
export class AuditCheckpointer {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> = Promise.resolve()
  private readonly intervalMs: number
  private readonly now: () => number

  constructor(
    private readonly derived: DerivedStore,
    private readonly o: AuditCheckpointerOptions,
  ) {
    this.intervalMs = o.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS
    this.now = o.now ?? Date.now
  }

  /** Starts the timer. Idempotent. */
  start(): void {
    if (this.timer) return
    this.timer = setInterval(() => {
      this.running = this.running
        .then(() => this.step())
        .catch((e) => this.o.logger?.warn(`audit: checkpoint failed: ${(e as Error).message}`))
    }, this.intervalMs)
    this.timer.unref()
  }

  /** Signs the current sealed head if no checkpoint covers it yet; returns the new checkpoint, if any. */
  async step(): Promise<Checkpoint | undefined> {
    await ensureAuditTables(this.derived)
    const head = await sealedHead(this.derived)
    if (!head) return undefined
    const last = await latestCheckpoint(this.derived)
    if (last && last.index >= head.n) return undefined
    const signedMs = this.now()
    const c = signCheckpoint(
      {
        batch: head.position,
        index: head.n,
        rows: head.rowsTotal,
        root: head.head.toString('hex'),
        time: new Date(signedMs).toISOString(),
      },
      this.o.key,
    )
    await this.derived.write([
      this.derived.db
        .insertInto('audit_checkpoints')
        .values({
          n: head.n,
          position: head.position,
          rows_total: head.rowsTotal,
          head: head.head,
          signed_ms: signedMs,
          key_id: c.key_id,
          signature: Buffer.from(c.signature, 'base64'),
        })
        .onConflict((oc) => oc.column('n').doNothing())
        .compile(),
    ])
    return c
  }

  /** Stops the timer and signs the head one last time (a clean shutdown leaves it covered). Idempotent. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.running
    await this.step().catch((e) => this.o.logger?.warn(`audit: final checkpoint failed: ${(e as Error).message}`))
  }
}
