import { createHmac } from 'node:crypto'
import zlib from 'node:zlib'
import type { Platform, TimerHandle } from '../core/platform.js'
import { installExitHooks } from './exit-hooks.js'

const utf8 = new TextDecoder()

function handle(t: NodeJS.Timeout, keepAlive: boolean, clear: (t: NodeJS.Timeout) => void): TimerHandle {
  if (!keepAlive) t.unref()
  return {
    cancel: () => clear(t),
    ref: (k) => void (k ? t.ref() : t.unref()),
  }
}

/**
 * Node services of the core: Buffer for UTF-8, zlib gzip on the libuv thread pool (so compression
 * stays off the caller's thread), node:crypto HMAC, setImmediate, unref'd timers and exit hooks.
 */
export function nodePlatform(): Platform {
  return {
    encodeUtf8: (s) => Buffer.from(s, 'utf8'),
    allocBytes: (n) => Buffer.allocUnsafeSlow(n),
    writeUtf8: (target, offset, s) => (target as Buffer).write(s, offset, 'utf8'),
    decodeUtf8: (b) => (Buffer.isBuffer(b) ? b.toString('utf8') : utf8.decode(b)),
    gzip: (data, level) =>
      new Promise((resolve, reject) =>
        // One output chunk for the whole batch: with 16 KiB chunks (the default), the main thread
        // handles a callback per chunk, which measured 5–10× the main-thread cost on tensor data.
        zlib.gzip(data, { level, chunkSize: Math.min(Math.max(data.byteLength + 1024, 64 * 1024), 8 * 1024 * 1024) }, (err, out) =>
          err ? reject(err) : resolve(out),
        ),
      ),
    gunzip: (data) => new Promise((resolve, reject) => zlib.gunzip(data, (err, out) => (err ? reject(err) : resolve(out)))),
    hmacSha256Hex: (key, message) => createHmac('sha256', key).update(message).digest('hex'),
    soon: (fn) => void setImmediate(fn),
    timer: (fn, ms, keepAlive) => handle(setTimeout(fn, ms), keepAlive, clearTimeout),
    interval: (fn, ms) => handle(setInterval(fn, ms), false, clearInterval),
    installExitHooks,
  }
}
