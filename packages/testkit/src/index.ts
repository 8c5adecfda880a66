/**
 * `@inferlog/testkit`: what inferlog's tests and benchmarks share. Tests import the TypeScript
 * sources (a vitest alias); benchmarks, plain JS, import the build (`npm run build` first).
 */
export {
  type CatalogComparison,
  compareCatalogPostgres,
  compareCatalogSqlite,
  compareMetricsPostgres,
  compareMetricsSqlite,
  waitCatalog,
} from './catalog-check.js'
export { freePort, portOpen, waitPort } from './free-port.js'
export { listAll } from './list-all.js'
export { driveLoad, type LoadOptions, type LoadResult } from './load/drive-load.js'
export { type GzipBomb, gzipBomb, postGzipNdjson, procStatusBytes } from './load/gzip-bomb.js'
export { makeEvent, makeEventLine } from './load/scale-event.js'
export { countStored, type VerifyResult, verifyStored, waitStored } from './load/verify-stored.js'
export { NATS_SERVER, OwnNats } from './own-nats.js'
export { OwnPostgres, type OwnPostgresOptions, PG_BIN } from './own-postgres.js'
export { dropSchemas, uniqueSchema, withSchema } from './postgres-schemas.js'
export { processCpuMs } from './process-cpu.js'
export { CLI, REPO_ROOT } from './repo-paths.js'
export { NATS_TEST_SERVER, natsReachable, PG_TEST_URL, postgresReachable, servicesAvailable } from './service-availability.js'
export {
  type CliProcess,
  type CliRun,
  runCli,
  type ServerProcess,
  type SpawnCliOptions,
  SERVER_NODE_ARGS,
  spawnCli,
  spawnServer,
} from './spawn-cli.js'
export { type NodeProcess, type ProcessExit, type SpawnNodeOptions, spawnNode } from './spawn-node.js'
