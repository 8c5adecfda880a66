import { InferlogError } from '../errors.js'

/**
 * Bytes that in-flight requests may hold at once. Each request takes a {@link MemoryHold} and
 * grows it as it reads, inflates and parses; a hold that would pass the budget fails with
 * `overloaded` (503 + Retry-After) before the bytes are taken, so memory under a flood of large
 * or highly compressed bodies stays near the budget instead of growing with the number of clients.
 */
export class MemoryBudget {
  private used = 0
  private peak = 0

  /**
   * @param limitBytes the budget; a request that is the only one holding bytes may pass it, so one
   *   request of the largest allowed size always makes progress.
   * @param retryAfterSeconds `Retry-After` of the 503. Default 1.
   * @param gauge told the bytes in use after each change (a Prometheus gauge). Default none.
   */
  constructor(
    readonly limitBytes: number,
    private readonly retryAfterSeconds = 1,
    private readonly gauge?: { set(bytes: number): void },
  ) {}

  /** Bytes held now. */
  get inUse(): number {
    return this.used
  }

  /** Most bytes held at once since start. */
  get highWater(): number {
    return this.peak
  }

  /** A new, empty hold for one request. Release it when the request is answered. */
  hold(): MemoryHold {
    return new MemoryHold(this)
  }

  /** @internal */
  take(n: number, alreadyHeld: number): void {
    // A request that is alone may always go on, or a budget smaller than one request would refuse
    // it forever; with others holding bytes, the budget is strict.
    if (this.used + n > this.limitBytes && this.used - alreadyHeld > 0) {
      throw new InferlogError('overloaded', `the server is holding ${Math.round(this.used / 1048576)} MiB of request bodies; retry later`, {
        retryAfter: this.retryAfterSeconds,
      })
    }
    this.used += n
    if (this.used > this.peak) this.peak = this.used
    this.gauge?.set(this.used)
  }

  /** @internal */
  give(n: number): void {
    this.used -= n
    this.gauge?.set(this.used)
  }
}

/** The bytes one request holds against a {@link MemoryBudget}. */
export class MemoryHold {
  private held = 0
  private reserved = 0
  private released = false

  constructor(private readonly budget: MemoryBudget) {}

  /** Bytes this hold has taken (reserved bytes included). */
  get bytes(): number {
    return this.held
  }

  /** Bytes reserved and not yet used by {@link add}. */
  get unused(): number {
    return this.reserved
  }

  /**
   * Takes `n` bytes now for what this request expects to hold (a gzip body's declared size), or
   * throws `overloaded` without taking them: a request the budget cannot carry is refused before
   * any of its work is done. Later {@link add} calls use the reservation first.
   */
  reserve(n: number): void {
    if (this.released || n <= 0) return
    this.budget.take(n, this.held)
    this.held += n
    this.reserved += n
  }

  /** Takes `n` more bytes (from the reservation first), or throws `overloaded` without taking them. */
  add(n: number): void {
    if (this.released) return
    const fromReserve = Math.min(n, this.reserved)
    this.reserved -= fromReserve
    const more = n - fromReserve
    if (more === 0) return
    try {
      this.budget.take(more, this.held)
    } catch (e) {
      this.reserved += fromReserve
      throw e
    }
    this.held += more
  }

  /** Gives everything back. Idempotent. */
  release(): void {
    if (this.released) return
    this.released = true
    this.budget.give(this.held)
    this.held = 0
    this.reserved = 0
  }
}

/**
 * Bytes parsing holds per byte of JSON text at least ({@link parseCost}'s base): reserve it with
 * the inflated bytes when a body will be parsed.
 */
export const PARSE_BYTES_PER_BYTE = 3

/** Bytes charged per NDJSON line for the per-item objects the parser makes beside the value. */
const PER_LINE_BYTES = 256

/**
 * What parsing a JSON text costs in memory, as an upper estimate: V8 keeps about 2-2.5× the text
 * for typical records and about 64 bytes per object or array, which dominates hostile bodies such
 * as `[{},{},…]` (21× their text); NDJSON adds per-line bookkeeping. Braces and newlines are
 * counted with native `indexOf`, inside strings too, which only overestimates.
 */
export function parseCost(body: Buffer, ndjson = false): number {
  const count = (byte: number) => {
    let n = 0
    for (let i = body.indexOf(byte); i !== -1; i = body.indexOf(byte, i + 1)) n++
    return n
  }
  return PARSE_BYTES_PER_BYTE * body.length + 64 * (count(0x7b) + count(0x5b)) + (ndjson ? PER_LINE_BYTES * (count(0x0a) + 1) : 0)
}
