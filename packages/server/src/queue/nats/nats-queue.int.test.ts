import { randomBytes } from 'node:crypto'
import { NATS_TEST_SERVER, natsReachable } from '@inferlog/testkit'
import { connect } from 'nats'
import { describe } from 'vitest'
import { describeQueueConformance } from '../queue-conformance.test-suite.js'
import { NatsQueue } from './nats-queue.js'

// The machine's nats-server (INFERLOG_TEST_NATS), one stream per test, removed afterwards.
const available = await natsReachable()

describe.skipIf(!available)('NatsQueue', () => {
  describeQueueConformance('nats', {
    // JetStream checks ack waits and nak delays on its own timers: a second keeps their jitter small beside the spans tested.
    ackWaitMs: 1_000,
    open: async ({ ackWaitMs }) => {
      const stream = `QC_${randomBytes(6).toString('hex')}`
      const queue = await NatsQueue.connect({ servers: [NATS_TEST_SERVER], stream, ackWaitMs })
      return {
        queue,
        dispose: async () => {
          await queue.close()
          const nc = await connect({ servers: [NATS_TEST_SERVER] })
          try {
            await (await nc.jetstreamManager()).streams.delete(stream)
          } finally {
            await nc.close()
          }
        },
      }
    },
  })
})
