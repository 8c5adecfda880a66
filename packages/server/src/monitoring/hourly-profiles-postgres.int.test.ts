import { afterAll, describe } from 'vitest'
import { dropSchemas, PG_TEST_URL, postgresReachable, uniqueSchema, withSchema } from '@inferlog/testkit'
import { openStore } from '../store/open-store.js'
import { describeHourlyProfilesConformance } from './hourly-profiles-conformance.test-suite.js'

const reachable = await postgresReachable()
const schemas: string[] = []
afterAll(() => dropSchemas(schemas))

describe.skipIf(!reachable)('postgres', () => {
  describeHourlyProfilesConformance('postgres', async () => {
    const schema = uniqueSchema()
    schemas.push(schema)
    return openStore(withSchema(PG_TEST_URL, schema))
  })
})
