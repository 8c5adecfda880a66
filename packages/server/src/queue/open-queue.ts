import { InferlogError } from '../errors.js'
import { MemoryQueue } from './memory/memory-queue.js'
import { NatsQueue, parseNatsUrl } from './nats/nats-queue.js'
import type { Queue } from './queue.js'

/** What {@link openQueue} may be told besides the URL. */
export interface OpenQueueOptions {
  /** Connection name shown in the server's monitoring, e.g. `inferlog-collector`. */
  name?: string
  /** Told about connection changes and undecodable messages. */
  onWarning?: (message: string) => void
}

/**
 * Opens a queue from a URL: `nats://host:port[,host:port…][?stream=…]` (see
 * {@link parseNatsUrl}) or `memory:` (in-process, for tests).
 */
export async function openQueue(url: string, options: OpenQueueOptions = {}): Promise<Queue> {
  if (url === 'memory:' || url.startsWith('memory:')) return new MemoryQueue()
  if (url.startsWith('nats://') || url.startsWith('tls://')) {
    return NatsQueue.connect({
      ...parseNatsUrl(url),
      ...(options.name ? { name: options.name } : {}),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    })
  }
  throw new InferlogError('invalid_parameter', `unsupported queue URL scheme "${url.split(':')[0]}:" (supported: nats://, memory:)`)
}
