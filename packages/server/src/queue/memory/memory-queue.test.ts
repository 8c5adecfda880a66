import { describeQueueConformance, fakeClock } from '../queue-conformance.test-suite.js'
import { MemoryQueue } from './memory-queue.js'

describeQueueConformance('memory', {
  ackWaitMs: 1_000,
  clock: fakeClock,
  open: async ({ ackWaitMs }) => {
    const queue = new MemoryQueue({ ackWaitMs })
    return { queue, dispose: () => queue.close() }
  },
})
