import { nextBackoffMs } from '@inferlog/schema'
import type { SdkErrorCode } from '../errors.js'
import { classify, type Verdict } from './classify.js'
import type { Lifecycle } from './lifecycle.js'
import type { PayloadCodec } from './payload-codec.js'
import type { Payload, Sender, SendResult } from './platform.js'
import type { Sleepers } from './sleepers.js'
import type { Counts, Report } from './stats.js'

/** Retry settings of {@link Delivery}. */
export interface DeliveryConfig {
  maxRetries: number
  retriesBeforeSpool: number
  initialBackoffMs: number
  maxBackoffMs: number
}

/** One attempt and its verdict. For `ok`, `split` and `fatal` the payload is fully dealt with. */
export interface Attempted {
  verdict: Verdict
  res?: SendResult
  err?: unknown
}

/**
 * Delivers payloads, live or from the spool: sends, classifies the answer, and does what the
 * verdict says (account for a delivered batch, split one that is too large, give up on a fatal
 * one, counted and reported). Retry policy is the caller's; {@link send} is the live one.
 */
export class Delivery {
  /**
   * @param spill takes a payload the collector cannot take now (into the spool, outage mode on);
   *   undefined when there is no spool.
   */
  constructor(
    private readonly cfg: DeliveryConfig,
    private readonly sender: Sender,
    private readonly codec: PayloadCodec,
    private readonly counts: Counts,
    private readonly report: Report,
    private readonly life: Lifecycle,
    private readonly sleepers: Sleepers,
    private readonly spill: ((p: Payload) => Promise<void>) | undefined,
  ) {}

  /**
   * The live path: sends with retries; a batch still failing after `retriesBeforeSpool` retries
   * (at once while closing) is spilled to the spool; without a spool it is given up on after
   * `maxRetries`.
   */
  async send(p: Payload): Promise<void> {
    const retries = this.spill ? this.cfg.retriesBeforeSpool : this.cfg.maxRetries
    for (let attempt = 0; ; attempt++) {
      const a = await this.attempt(p, false)
      if (a.verdict !== 'retry') return
      if (this.life.phase !== 'stopped') {
        if (this.spill && (this.life.phase !== 'open' || attempt >= retries)) return this.spill(p)
        if (attempt < retries) {
          this.counts.retried++
          await this.sleepers.sleep(this.backoff(attempt, a.res), true)
          continue
        }
      }
      return this.fail(p, a, false)
    }
  }

  /**
   * One send of `p` and what follows from the answer, except a retry, which is left to the caller
   * (live sends back off, the replayer keeps the batch on disk).
   */
  async attempt(p: Payload, replay: boolean): Promise<Attempted> {
    const a: Attempted = { verdict: 'retry' }
    try {
      a.res = await this.sender.send(p)
    } catch (err) {
      a.err = err
    }
    a.verdict = classify(a.res, a.err)
    if (a.verdict === 'ok') this.account(p, a.res?.reply, replay)
    else if (a.verdict === 'split' && p.count > 1) {
      for (const half of await this.codec.split(p)) await this.send(half)
    } else if (a.verdict !== 'retry') {
      // A single item over the collector's limit cannot be split further: fatal too.
      a.verdict = 'fatal'
      this.fail(p, a, replay)
    }
    return a
  }

  /** Delay before retry number `attempt`, honouring the collector's `Retry-After`. */
  backoff(attempt: number, res: SendResult | undefined): number {
    return nextBackoffMs(attempt, {
      baseMs: this.cfg.initialBackoffMs,
      maxMs: this.cfg.maxBackoffMs,
      ...(res?.retryAfterMs !== undefined ? { retryAfterMs: res.retryAfterMs } : {}),
    })
  }

  private fail(p: Payload, a: Attempted, replay: boolean): void {
    this.counts.failed += p.count
    const code: SdkErrorCode = (a.err as { sdkCode?: SdkErrorCode } | undefined)?.sdkCode ?? 'delivery_failed'
    this.report(code, `${p.count} ${replay ? 'spooled ' : ''}${p.kind} items lost: ${describe(a.res, a.err)}`, {
      items: p.count,
      cause: a.err,
      ...(a.res ? { status: a.res.status } : {}),
    })
  }

  private account(p: Payload, reply: SendResult['reply'], replay: boolean): void {
    const c = this.counts
    c.requests++
    c.bytesSent += p.body.byteLength
    if (!reply || typeof reply.accepted !== 'number') {
      c.sent += p.count
      if (replay) c.replayed += p.count
      return
    }
    const rejected = Array.isArray(reply.rejected) ? reply.rejected : []
    const ok = p.count - rejected.length
    c.sent += ok
    c.duplicates += reply.duplicates ?? 0
    if (replay) c.replayed += ok
    const first = rejected[0]
    if (first === undefined) return
    c.rejected += rejected.length
    const codes = [...new Set(rejected.map((r) => r.code))].join(', ')
    this.report('rejected', `the collector rejected ${rejected.length} of ${p.count} ${p.kind} items (${codes}); first: ${first.message}`, {
      rejections: rejected,
      items: rejected.length,
    })
  }
}

function describe(res: SendResult | undefined, err: unknown): string {
  if (res) return `HTTP ${res.status}${res.errorCode ? ` ${res.errorCode}` : ''}${res.message ? `: ${res.message}` : ''}`
  return err instanceof Error ? err.message : String(err)
}
