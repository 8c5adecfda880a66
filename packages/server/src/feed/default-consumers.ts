import { MetricsConsumer } from '../monitoring/metrics-consumer.js'
import { ModelConfigs } from '../monitoring/model-config.js'
import type { Store } from '../store/store.js'
import { CatalogConsumer } from './catalog-consumer.js'
import type { FeedConsumer } from './feed-consumer.js'

/** The consumers every process that commits to the log runs (the embedded collector, each worker). */
export function defaultConsumers(store: Store): FeedConsumer[] {
  return [new CatalogConsumer(), new MetricsConsumer(new ModelConfigs(store.derived), store)]
}
