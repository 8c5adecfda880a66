import { fileURLToPath } from 'node:url'

/**
 * Where things are in the repository, from this package's own place (`packages/testkit/src` when
 * tests run the sources, `packages/testkit/dist` when benchmarks run the build: same depth).
 */
const at = (p: string) => fileURLToPath(new URL(p, import.meta.url))

/** The repository root. */
export const REPO_ROOT = at('../../../')

/** The built CLI launcher, `packages/cli/bin/inferlog.js` (`npm test` and `npm run bench:*` build first). */
export const CLI = at('../../cli/bin/inferlog.js')
