import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

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
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
})
