import { CatalogConsumer } from './catalog-consumer.js'
import type { FeedConsumer } from './feed-consumer.js'

/** The consumers every process that commits to the log runs (the embedded collector, each worker). */
export function defaultConsumers(): FeedConsumer[] {
  return [new CatalogConsumer()]
}
