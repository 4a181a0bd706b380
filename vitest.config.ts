import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { configDefaults, defineConfig } from 'vitest/config';

// Keyv 6 (the devDependency keyv6) needs Node 22.19 or newer: its tests join the suite there (CI runs it on Node 24).
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const keyv6Runs = major > 22 || (major === 22 && minor >= 19);

// Two projects: `unit` (*.spec.ts: pure logic, no Java, no DynamoDB Local) and `e2e` (*.e2e-spec.ts,
// against one DynamoDB Local started by the global setup). `vitest run` runs both; `--project unit`
// (npm run test:unit) runs on a machine without Java.
export default defineConfig({
  // SWC, not esbuild, so that Nest's decorators get their design-time type metadata.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  // The sample imports the package by name, as an app would; here that name (and each subpath, a file
  // of src/entries as in package.json's exports) is the source.
  resolve: {
    alias: [
      { find: /^nest-dynamo-cache$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      { find: /^nest-dynamo-cache\/(.+)$/, replacement: fileURLToPath(new URL('./src/entries/$1.ts', import.meta.url)) },
    ],
  },
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    setupFiles: ['reflect-metadata'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // E2E files share one DynamoDB Local; each works in tables of its own.
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['src/**/*.spec.ts', 'test/**/*.spec.ts', 'sample/**/*.spec.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e-spec.ts', 'sample/**/*.e2e-spec.ts'],
          exclude: [...configDefaults.exclude, ...(keyv6Runs ? [] : ['test/store/keyv6.e2e-spec.ts'])],
          globalSetup: ['test/support/dynamodb-local.global-setup.ts'],
        },
      },
    ],
  },
});
