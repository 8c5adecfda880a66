/** Moved to `@inferlog/testkit` (import it from there); this shim keeps the old path. */
export { type CatalogComparison, compareCatalogPostgres, compareCatalogSqlite, waitCatalog } from '@inferlog/testkit'
