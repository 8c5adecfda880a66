import { fileURLToPath } from 'node:url'
import { configDefaults, defineConfig } from 'vitest/config'

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url))

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources; child-process tests run the built CLI (npm test builds first).
    alias: [
      { find: /^@inferlog\/schema\/validate$/, replacement: src('./packages/schema/src/validate.ts') },
      { find: /^@inferlog\/schema$/, replacement: src('./packages/schema/src/index.ts') },
      { find: /^@inferlog\/server$/, replacement: src('./packages/server/src/index.ts') },
      { find: /^@inferlog\/sdk$/, replacement: src('./packages/sdk/src/index.ts') },
      { find: /^@inferlog\/sdk\/openai$/, replacement: src('./packages/sdk/src/openai/index.ts') },
      { find: /^@inferlog\/sdk\/ai$/, replacement: src('./packages/sdk/src/ai/index.ts') },
      { find: /^@inferlog\/proxy$/, replacement: src('./packages/proxy/src/index.ts') },
      { find: /^@inferlog\/analysis$/, replacement: src('./packages/analysis/src/index.ts') },
      { find: /^@inferlog\/datasets$/, replacement: src('./packages/datasets/src/index.ts') },
      { find: /^@inferlog\/testkit$/, replacement: src('./packages/testkit/src/index.ts') },
    ],
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    // `npm run test:unit` / `npm run test:int` run one; `vitest run` runs both.
    projects: [
      {
        extends: true,
        // In-process only: no child processes, no real services, no waiting on the wall clock.
        test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'], exclude: [...configDefaults.exclude, '**/*.int.test.ts'] },
      },
      {
        extends: true,
        // Child processes of the built CLI, real PostgreSQL / NATS (skipped when absent unless CI=true).
        test: { name: 'integration', include: ['packages/*/src/**/*.int.test.ts', 'test/**/*.test.ts'] },
      },
    ],
  },
})
