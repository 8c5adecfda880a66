/**
 * Moved to `@inferlog/testkit` (import it from there); this shim keeps the old path and the
 * positional `spawnCli(args, env)` for tests written against them.
 */
import { type CliProcess, spawnCli as kitSpawnCli } from '@inferlog/testkit'

export {
  CLI,
  type CliProcess,
  freePort,
  NATS_SERVER,
  OwnNats,
  OwnPostgres,
  PG_BIN,
  servicesAvailable,
  waitPort,
} from '@inferlog/testkit'

/** `spawnCli(args, { env })` of the testkit. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliProcess> {
  return kitSpawnCli(args, { env })
}
