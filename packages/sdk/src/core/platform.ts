import type { IngestReply } from '@inferlog/schema'

/** Which endpoint a payload goes to. */
export type RecordKind = 'event' | 'feedback'

/** One encoded batch: NDJSON bytes, possibly gzip-compressed. */
export interface Payload {
  kind: RecordKind
  body: Uint8Array
  encoding: 'gzip' | 'identity'
  /** Items (lines) in the batch. */
  count: number
}

/** What a transport answered. Network faults are thrown instead. */
export interface SendResult {
  status: number
  /** From `Retry-After`, when the reply had one. */
  retryAfterMs?: number
  /** The per-item reply of a 200 or 207. */
  reply?: IngestReply
  /** `error.code` of an error reply, when it had one. */
  errorCode?: string
  message?: string
}

/** A way to deliver payloads: HTTP to a collector, or straight into a store. */
export interface Sender {
  /** Whether payloads should be gzip-compressed for this transport. */
  readonly compress: boolean
  send(payload: Payload): Promise<SendResult>
  /** Releases connections; in-flight sends fail. Idempotent. */
  close(): Promise<void>
}

/** One spooled batch. */
export interface SpoolEntry {
  readonly name: string
  readonly kind: RecordKind
  readonly count: number
  readonly bytes: number
  readonly encoding: 'gzip' | 'identity'
}

/** A bounded, ordered store of payloads that survives restarts (the disk spool). */
export interface Spool {
  /** Loads what earlier runs left. Must be called once before the rest. */
  open(): Promise<void>
  /** Oldest entry not being replayed, or undefined. */
  head(): SpoolEntry | undefined
  /** Entries, items and bytes currently held. */
  size(): { entries: number; items: number; bytes: number }
  /**
   * Writes a payload durably, evicting the oldest entries beyond the size cap.
   * @returns the number of items evicted (or the payload's own count when it cannot fit at all).
   */
  write(payload: Payload): Promise<{ evicted: number; stored: boolean }>
  read(entry: SpoolEntry): Promise<Payload>
  remove(entry: SpoolEntry): Promise<void>
  /** Protects an entry from eviction while it is being replayed. */
  pin(entry: SpoolEntry, pinned: boolean): void
}

/** A cancellable timer. */
export interface TimerHandle {
  cancel(): void
  /** Lets the process exit while the timer is pending (or not). */
  ref(keepAlive: boolean): void
}

/** Runtime services the core needs; Node provides them in `node/`, other runtimes can follow. */
export interface Platform {
  encodeUtf8(s: string): Uint8Array
  /** Uninitialized bytes (contents are overwritten before use). */
  allocBytes(n: number): Uint8Array
  /** Writes `s` as UTF-8 at `offset`; the caller guarantees `3 × s.length` bytes of room. Returns the bytes written. */
  writeUtf8(target: Uint8Array, offset: number, s: string): number
  decodeUtf8(b: Uint8Array): string
  gzip?(data: Uint8Array, level: number): Promise<Uint8Array>
  gunzip?(data: Uint8Array): Promise<Uint8Array>
  hmacSha256Hex?(key: string, message: string): string
  /** Runs `fn` soon, after pending I/O callbacks (setImmediate, else setTimeout 0). */
  soon(fn: () => void): void
  /** A one-shot timer; `keepAlive` false lets the process exit while it waits. */
  timer(fn: () => void, ms: number, keepAlive: boolean): TimerHandle
  /** A repeating timer that never keeps the process alive. */
  interval(fn: () => void, ms: number): TimerHandle
  /** Calls `flush` on process exit signals; returns the uninstaller. */
  installExitHooks?(flush: (timeoutMs: number) => Promise<void>, hasPending: () => boolean, timeoutMs: number): () => void
}
