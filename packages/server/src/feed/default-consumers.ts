import { AuditChainConsumer } from '../audit/audit-chain-consumer.js'
import { InferlogError } from '../errors.js'
import { MetricsConsumer } from '../monitoring/metrics-consumer.js'
import { ModelConfigs } from '../monitoring/model-config.js'
import { PriceTables } from '../monitoring/price-tables.js'
import { ProfilesConsumer } from '../monitoring/profiles-consumer.js'
import type { Store } from '../store/store.js'
import { CatalogConsumer } from './catalog-consumer.js'
import type { FeedConsumer } from './feed-consumer.js'
import type { ConsumerSelection } from './consumer-selection.js'
import { NoopConsumer } from './noop-consumer.js'

/**
 * The consumers every process that commits to the log runs (the embedded collector, each worker),
 * or those of them `only` names (`'all'` by default: `catalog`, `metrics`, `audit`, `profiles`;
 * `'none'` for none).
 * `noop` (see {@link NoopConsumer}) runs only when named.
 */
export function defaultConsumers(store: Store, only: ConsumerSelection = 'all'): FeedConsumer[] {
  const defaults: FeedConsumer[] = [
    new CatalogConsumer(),
    new MetricsConsumer(new ModelConfigs(store.derived), store, new PriceTables(store.derived)),
    // The audit chain (on by default: leave it out only with an explicit list).
    new AuditChainConsumer(store),
    new ProfilesConsumer(new ModelConfigs(store.derived), store),
  ]
  if (only === 'all') return defaults
  if (only === 'none') return []
  const known = [...defaults, new NoopConsumer()]
  const unknown = only.filter((n) => !known.some((c) => c.name === n))
  if (unknown.length > 0)
    throw new InferlogError('invalid_parameter', `unknown consumers ${unknown.join(', ')}; known: ${known.map((c) => c.name).join(', ')}`)
  return known.filter((c) => only.includes(c.name))
}
