import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { configDefaults, defineConfig } from 'vitest/config';

// Keyv 6 (the devDependency keyv6) needs Node 22.19 or newer: its tests join the suite there (CI runs it on Node 24).
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const keyv6Runs = major > 22 || (major === 22 && minor >= 19);

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
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts', 'test/**/*.e2e-spec.ts', 'sample/**/*.e2e-spec.ts'],
    exclude: [...configDefaults.exclude, ...(keyv6Runs ? [] : ['test/store/keyv6.e2e-spec.ts'])],
    reporters: ['default', './test/support/summary-reporter.ts'],
    globalSetup: ['test/support/dynamodb-local.global-setup.ts'],
    setupFiles: ['reflect-metadata'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Test files share one DynamoDB Local; each works in tables of its own.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
