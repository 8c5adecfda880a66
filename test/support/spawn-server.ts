/**
 * Moved to `@inferlog/testkit` (import it from there); this shim keeps the old path and its
 * positional signatures for tests written against them.
 */
import { type CliRun, runCli as kitRunCli, type ServerProcess, spawnServer as kitSpawnServer } from '@inferlog/testkit'

export { CLI, listAll, type ServerProcess } from '@inferlog/testkit'

/** `spawnServer(args, { env, cwd })` of the testkit. */
export function spawnServer(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<ServerProcess> {
  return kitSpawnServer(args, { env, ...(cwd ? { cwd } : {}) })
}

/** `runCli(args, { env, input, cwd })` of the testkit. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string, cwd?: string): Promise<CliRun> {
  return kitRunCli(args, { env, ...(input !== undefined ? { input } : {}), ...(cwd ? { cwd } : {}) })
}
