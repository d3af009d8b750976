import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // web/src: unit tests of the web app's own logic, beside it (type-checked by `npm run web:typecheck`)
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.ts'],
    // The browser tests run in CI through `npm run test:e2e` (TRANCHE_E2E=1), not in every `npm test`.
    exclude: [...configDefaults.exclude, ...(process.env.TRANCHE_E2E ? [] : ['test/e2e/**'])],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
