/**
 * Moved to `@inferlog/testkit` (import it from there): where the test PostgreSQL is, whether it is
 * reachable (skip unless CI=true), throwaway schemas. This shim keeps the old path.
 */
export { dropSchemas, PG_TEST_URL, postgresReachable, uniqueSchema, withSchema } from '@inferlog/testkit'
