import {
  AckPolicy,
  connect,
  DeliverPolicy,
  DiscardPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
} from 'nats'
import { InferlogError } from '../../errors.js'
import type { WriteBatch } from '../../store/store.js'
import { batchId, decodeBatch, encodeInParts } from '../batch-codec.js'
import type { Queue, QueueDelivery } from '../queue.js'

/** Options of {@link NatsQueue}. */
export interface NatsQueueOptions {
  /** e.g. `['127.0.0.1:4222']`; several for a cluster. */
  servers: string[]
  /** Stream name. Default `INFERLOG`. */
  stream?: string
  /** Subject the groups are published on. Default `<stream in lower case>.batches` (`inferlog.batches`). */
  subject?: string
  /** Durable pull consumer shared by all workers. Default `inferlog-workers`. */
  consumer?: string
  /** Redelivery after this long without an ack (a worker died). Default 30 000 ms. */
  ackWaitMs?: number
  /** Stream replicas when this process creates the stream: 3 in a cluster for real durability. Default 1. */
  replicas?: number
  /** JetStream's duplicate window: a re-publish with the same message id inside it is dropped. Default 120 000 ms. */
  duplicateWindowMs?: number
  /** Stream size limit in bytes; when full, publishes fail and collectors answer 503. Default -1 (none). */
  maxBytes?: number
  /** How long a publish waits for JetStream's acknowledgement. Default 5 000 ms. */
  publishTimeoutMs?: number
  /** Groups a worker holds unacknowledged at most (fetched ahead while writing). Default 16. */
  prefetch?: number
  /** Connection name shown by the server's monitoring. */
  name?: string
  /** Told about connection changes and undecodable messages. */
  onWarning?: (message: string) => void
}

const NOT_FOUND = 10059 // stream not found
const RETRY_AFTER = 1

function parseDuration(name: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim())
  if (!m) throw new InferlogError('invalid_parameter', `${name}=${v}: use a duration such as 500ms, 30s, 2m`)
  const n = Number(m[1])
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms'])
}

/**
 * Parses `nats://host:port[,host:port…][?stream=S&subject=X&consumer=C&ack_wait=30s&replicas=3&dup_window=2m&max_bytes=N&prefetch=16]`.
 */
export function parseNatsUrl(url: string): NatsQueueOptions {
  if (!url.startsWith('nats://') && !url.startsWith('tls://'))
    throw new InferlogError('invalid_parameter', `queue URL ${url} must start with nats://`)
  const q = url.indexOf('?')
  const hosts = (q < 0 ? url : url.slice(0, q))
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean)
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1))
  const o: NatsQueueOptions = { servers: hosts }
  const str = (k: string) => params.get(k) ?? undefined
  const int = (k: string, min: number) => {
    const v = params.get(k)
    if (v === null) return undefined
    const n = Number(v)
    if (!Number.isInteger(n) || n < min) throw new InferlogError('invalid_parameter', `${k}=${v}: must be an integer ≥ ${min}`)
    return n
  }
  for (const [key, value] of params) {
    if (
      !['stream', 'subject', 'consumer', 'ack_wait', 'replicas', 'dup_window', 'max_bytes', 'prefetch', 'publish_timeout'].includes(key)
    ) {
      throw new InferlogError('invalid_parameter', `unknown queue URL parameter ${key}=${value}`)
    }
  }
  const stream = str('stream')
  if (stream !== undefined) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(stream)) throw new InferlogError('invalid_parameter', `stream=${stream}: letters, digits, - and _`)
    o.stream = stream
  }
  const subject = str('subject')
  if (subject !== undefined) o.subject = subject
  const consumer = str('consumer')
  if (consumer !== undefined) o.consumer = consumer
  const ackWait = str('ack_wait')
  if (ackWait !== undefined) o.ackWaitMs = parseDuration('ack_wait', ackWait)
  const dup = str('dup_window')
  if (dup !== undefined) o.duplicateWindowMs = parseDuration('dup_window', dup)
  const pt = str('publish_timeout')
  if (pt !== undefined) o.publishTimeoutMs = parseDuration('publish_timeout', pt)
  const replicas = int('replicas', 1)
  if (replicas !== undefined) o.replicas = replicas
  const maxBytes = int('max_bytes', 1)
  if (maxBytes !== undefined) o.maxBytes = maxBytes
  const prefetch = int('prefetch', 1)
  if (prefetch !== undefined) o.prefetch = prefetch
  return o
}

function unavailable(message: string, cause?: unknown): InferlogError {
  return new InferlogError('unavailable', message, { retryAfter: RETRY_AFTER, ...(cause === undefined ? {} : { cause }) })
}

/**
 * The scale-out queue: a JetStream stream (file storage, work-queue retention) and one durable pull
 * consumer that every worker shares. A group is published as one message, split only where the
 * server's message size limit demands, each part with a message id that is the hash of its bytes:
 * a collector's retry of the same part inside the duplicate window is dropped by JetStream.
 */
export class NatsQueue implements Queue {
  readonly kind = 'nats'
  private connected = true
  private closed = false
  private consuming: Promise<void> | undefined
  private messages: ConsumerMessages | undefined
  private readonly buffer: JsMsg[] = []
  private waiters: (() => void)[] = []
  private space: (() => void) | undefined
  private readonly stream: string
  private readonly subject: string
  private readonly durable: string
  private readonly warn: (m: string) => void

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly o: NatsQueueOptions,
  ) {
    this.stream = o.stream ?? 'INFERLOG'
    this.subject = o.subject ?? `${this.stream.toLowerCase()}.batches`
    this.durable = o.consumer ?? 'inferlog-workers'
    this.warn = o.onWarning ?? (() => {})
    void this.watchStatus()
  }

  /** Connects (failing fast when no server answers) and makes sure the stream exists. */
  static async connect(options: NatsQueueOptions): Promise<NatsQueue> {
    let nc: NatsConnection
    try {
      nc = await connect({
        servers: options.servers,
        name: options.name ?? 'inferlog',
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        reconnectJitter: 100,
        pingInterval: 10_000,
        timeout: 5_000,
      })
    } catch (e) {
      throw unavailable(`cannot connect to NATS at ${options.servers.join(',')}: ${(e as Error).message}`, e)
    }
    try {
      const jsm = await nc.jetstreamManager({ timeout: 5_000 })
      const q = new NatsQueue(nc, nc.jetstream({ timeout: options.publishTimeoutMs ?? 5_000 }), jsm, options)
      await q.ensureStream()
      return q
    } catch (e) {
      await nc.close().catch(() => {})
      throw e
    }
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') {
        this.connected = false
        this.warn(`nats: disconnected from ${String(s.data)}; reconnecting`)
      } else if (s.type === 'reconnect') {
        this.connected = true
        this.warn(`nats: reconnected to ${String(s.data)}`)
      }
    }
  }

  private async ensureStream(): Promise<void> {
    try {
      await this.jsm.streams.info(this.stream)
      return
    } catch (e) {
      if ((e as { api_error?: { err_code?: number } }).api_error?.err_code !== NOT_FOUND && !/not found/i.test((e as Error).message))
        throw e
    }
    try {
      await this.jsm.streams.add({
        name: this.stream,
        subjects: [this.subject],
        storage: StorageType.File,
        retention: RetentionPolicy.Workqueue,
        discard: DiscardPolicy.New,
        max_bytes: this.o.maxBytes ?? -1,
        num_replicas: this.o.replicas ?? 1,
        duplicate_window: nanos(this.o.duplicateWindowMs ?? 120_000),
      })
    } catch (e) {
      // Another process created it meanwhile.
      await this.jsm.streams.info(this.stream).catch(() => {
        throw e
      })
    }
  }

  private async ensureConsumer(): Promise<void> {
    const config = {
      durable_name: this.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.o.ackWaitMs ?? 30_000),
      max_deliver: -1,
      max_ack_pending: 10_000,
    }
    try {
      const info = await this.jsm.consumers.info(this.stream, this.durable)
      if (info.config.ack_wait !== config.ack_wait)
        await this.jsm.consumers.update(this.stream, this.durable, { ack_wait: config.ack_wait })
    } catch {
      try {
        await this.jsm.consumers.add(this.stream, config)
      } catch (e) {
        await this.jsm.consumers.info(this.stream, this.durable).catch(() => {
          throw e
        })
      }
    }
  }

  /** Largest part to publish: the server's limit less room for headers. */
  private maxPart(): number {
    return Math.max(64 * 1024, (this.nc.info?.max_payload ?? 1024 * 1024) - 4096)
  }

  /**
   * A one-item part is at most its body, its header fields (each also present in the body, and
   * JSON-escaped no longer than the body spells them) and ~300 bytes of framing: twice the body
   * plus 512 always fits.
   */
  get maxItemBytes(): number {
    return Math.floor((this.maxPart() - 512) / 2)
  }

  async publish(batch: WriteBatch): Promise<void> {
    if (this.closed) throw unavailable('queue is closed')
    if (!this.connected) throw unavailable('NATS is unreachable; retry later')
    let parts: Buffer[]
    try {
      parts = encodeInParts(batch, this.maxPart())
    } catch (e) {
      throw new InferlogError('validation_failed', (e as Error).message)
    }
    await Promise.all(parts.map((p) => this.publishPart(p)))
  }

  private async publishPart(bytes: Buffer): Promise<void> {
    const msgID = batchId(bytes)
    for (let attempt = 1; ; attempt++) {
      try {
        await this.js.publish(this.subject, bytes, {
          msgID,
          expect: { streamName: this.stream },
          timeout: this.o.publishTimeoutMs ?? 5_000,
        })
        return
      } catch (e) {
        const msg = (e as Error).message
        // The stream may be gone (a NATS without its storage): recreate it once, then retry the same id.
        if (attempt === 1 && this.connected && /no responders|stream not found|503/i.test(msg)) {
          await this.ensureStream().catch(() => {})
          continue
        }
        // A timeout may hide a stored message; the same message id makes the retry safe.
        if (attempt === 1 && this.connected && /timeout/i.test(msg)) continue
        throw unavailable(`NATS did not acknowledge the publish: ${msg}`, e)
      }
    }
  }

  /** Starts the shared pull consumer feeding this process's bounded buffer. */
  private startConsuming(): Promise<void> {
    this.consuming ??= (async () => {
      await this.ensureConsumer()
      const prefetch = this.o.prefetch ?? 16
      const consumer = await this.js.consumers.get(this.stream, this.durable)
      this.messages = await consumer.consume({ max_messages: prefetch })
      const pump = async () => {
        for await (const m of this.messages!) {
          // A message whose ack wait ran out while it sat here comes again: keep only the newer
          // delivery (in the older one's place), so one worker does not write the group twice.
          const stale = this.buffer.findIndex((b) => b.seq === m.seq)
          if (stale >= 0) this.buffer[stale] = m
          else this.buffer.push(m)
          this.notify()
          // Back-pressure: while the worker has not taken what it has, pull no more.
          while (this.buffer.length >= prefetch && !this.closed) await new Promise<void>((r) => (this.space = r))
        }
      }
      void pump().catch((e) => this.warn(`nats: consumer stopped: ${(e as Error).message}`))
    })()
    this.consuming.catch(() => (this.consuming = undefined))
    return this.consuming
  }

  private notify(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  async fetch(max: number, waitMs: number): Promise<QueueDelivery[]> {
    if (this.closed) return []
    await this.startConsuming()
    if (this.buffer.length === 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t)
          this.waiters = this.waiters.filter((w) => w !== done)
          resolve()
        }
        const t = setTimeout(done, waitMs)
        this.waiters.push(done)
      })
    }
    const taken = this.buffer.splice(0, max)
    const s = this.space
    this.space = undefined
    s?.()
    const out: QueueDelivery[] = []
    for (const m of taken) {
      let batch: WriteBatch
      try {
        batch = decodeBatch(m.data)
      } catch (e) {
        this.warn(`nats: message ${m.seq} of ${this.stream} cannot be decoded and is terminated: ${(e as Error).message}`)
        m.term()
        continue
      }
      // The server started the ack wait when it sent the message to the prefetch buffer; restart it
      // now, so that every delivery gets a whole ack wait from the fetch that hands it out.
      m.working()
      out.push({
        batch,
        deliveryCount: m.info.redeliveryCount,
        bytes: m.data.length,
        ack: () => m.ack(),
        nak: (delayMs) => m.nak(delayMs),
        working: () => m.working(),
        term: () => m.term(),
      })
    }
    return out
  }

  /** Messages in the stream not yet acknowledged, and those delivered but unacknowledged. */
  async lag(): Promise<{ pending: number; ackPending: number; redelivered: number }> {
    const info = await this.jsm.consumers.info(this.stream, this.durable)
    return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered }
  }

  async ping(): Promise<void> {
    if (this.closed) throw unavailable('queue is closed')
    if (!this.connected) throw unavailable('NATS is unreachable')
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.space?.()
    this.notify()
    try {
      this.messages?.stop()
      // Unacknowledged deliveries still buffered go back at once instead of after the ack wait.
      for (const m of this.buffer.splice(0)) m.nak()
      await this.nc.drain()
    } catch {
      await this.nc.close().catch(() => {})
    }
  }
}
