import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTable, dynamoEndpoint, uniqueTableName } from '../support/dynamo.js';
import { JEST, SOURCES, TSCONFIG, TSCONFIG_BUILD, TSCONFIG_LIBCHECK, TSCONFIG_NODE10, TSCONFIG_TS6 } from './nest11-cjs-app.js';

const run = promisify(execFile);
const repo = new URL('../..', import.meta.url).pathname;

/** The versions this repo tests with, so the fresh app installs what the registry (or npm's cache) has. */
async function devVersion(name: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  return manifest.devDependencies[name]!;
}

const APP_ESM = `
import 'reflect-metadata';
import { Controller, Get, Inject, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CACHE, DynamoCacheModule } from 'nest-dynamo-cache';

class Hello {
  constructor(cache) { this.cache = cache; }
  hello() { return this.cache.wrap('hello', () => ({ greeting: 'hi', from: 'esm' }), 60_000); }
}
Inject(CACHE)(Hello, undefined, 0);
Controller('hello')(Hello);
Get()(Hello.prototype, 'hello', Object.getOwnPropertyDescriptor(Hello.prototype, 'hello'));

class AppModule {}
Module({
  imports: [DynamoCacheModule.forRoot({ tableName: process.env.TABLE, createTableIfNotExists: true, endpoint: process.env.ENDPOINT,
    region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })],
  controllers: [Hello],
})(AppModule);

const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
const response = await fetch(await app.getUrl() + '/hello');
console.log(JSON.stringify({ status: response.status, body: await response.json() }));
await app.close();
`;

const APP_CJS = `
require('reflect-metadata');
const { DynamoCache } = require('nest-dynamo-cache');
const { DynamoStore } = require('nest-dynamo-cache/store');
(async () => {
  // The module's default cache keeps its entries under <partitionKeyPrefix>default:.
  const store = new DynamoStore({ tableName: process.env.TABLE, endpoint: process.env.ENDPOINT, region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, partitionKeyPrefix: 'dc:default:' });
  const cache = new DynamoCache(store);
  console.log(JSON.stringify({ body: await cache.get('hello') }));
  await cache.disconnect();
})();
`;

const APP_TS = `
import { Inject, Injectable } from '@nestjs/common';
import type { Cache } from 'cache-manager';
import { CACHE, type DynamoCache, DynamoCacheModule, type EntryOptions } from 'nest-dynamo-cache';
import type { BackplaneOptions, DistributedModuleOptions } from 'nest-dynamo-cache/options';
import { type CacheStats, instrumentCaches } from 'nest-dynamo-cache/observability';
import { DynamoSessionStore, type SessionData } from 'nest-dynamo-cache/session';
import { DynamoStore, MemoryStore, type TableSchema } from 'nest-dynamo-cache/store';
import { memoryCache, memoryCacheModule } from 'nest-dynamo-cache/testing';
import Keyv from 'keyv';

@Injectable()
export class Service {
  constructor(@Inject(CACHE) private readonly cache: DynamoCache) {}
  asCacheManager(): Cache { return this.cache; }
  sliding(): Promise<number> { const options: EntryOptions = { slidingExpiration: 1000 }; return this.cache.set('k', 1, options); }
}
export const module = DynamoCacheModule.forRootAsync({ useFactory: () => ({ tableName: 'app_cache' }) });
export const keyv = new Keyv({ store: new DynamoStore({ tableName: 'app_cache' }) });
export const subpaths = { MemoryStore, DynamoSessionStore, instrumentCaches, memoryCache, memoryCacheModule };
export type SubpathTypes = [TableSchema, SessionData, CacheStats, BackplaneOptions, DistributedModuleOptions];
`;

/** The values each subpath exports (`options` holds types alone). */
const SUBPATH_VALUES = {
  store: ['DynamoStore', 'MemoryStore'],
  session: ['DynamoSessionStore', 'SessionStoreError'],
  observability: ['instrumentCaches'],
  options: [],
  testing: ['memoryCache', 'memoryCacheModule'],
};

/** Loads every subpath (by import() or require), and round-trips a value through the testing one's cache. */
const loadSubpaths = (load: string) => `
const names = {};
for (const subpath of ${JSON.stringify(Object.keys(SUBPATH_VALUES))}) names[subpath] = Object.keys(await ${load}('nest-dynamo-cache/' + subpath)).sort();
const { memoryCache } = await ${load}('nest-dynamo-cache/testing');
const cache = memoryCache();
await cache.set('k', { from: 'testing' });
console.log(JSON.stringify({ names, value: await cache.get('k') }));
await cache.disconnect();
`;
const SUBPATHS_ESM = loadSubpaths('import');
const SUBPATHS_CJS = `(async () => {${loadSubpaths('require')}})();`;

/** A source map's sources, resolved against the map's folder, that the tarball does not hold. */
async function missingSources(mapPath: string, shipped: Set<string>): Promise<string[]> {
  const map = JSON.parse(await readFile(join(repo, mapPath), 'utf8')) as { sources: string[]; sourceRoot?: string };
  return map.sources
    .map((source) => posix.normalize(posix.join(posix.dirname(mapPath), map.sourceRoot ?? '', source)))
    .filter((source) => !shipped.has(source));
}

/** Writes an app's files (objects as JSON) and installs its dependencies, one install per app. */
async function installApp(directory: string, files: Record<string, string | object>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(directory, path)), { recursive: true });
    await writeFile(join(directory, path), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: directory });
}

/** Resolves to a command's output, failed or not, so that a failure's expectation shows what it printed. */
function outputOf(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  return run(command, args, { ...options, maxBuffer: 16 * 1024 * 1024 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout: string; stderr: string }) => ({ code: error.code ?? 1, stdout: error.stdout, stderr: error.stderr }),
  );
}

/**
 * tsc's report on the app's app.ts and every declaration it reaches (skipLibCheck off): '' when clean.
 * `typeRoots`: where @types/node comes from, when not the app's own.
 */
async function typeCheck(app: string, typeRoots?: string): Promise<string> {
  await writeFile(join(app, 'app.ts'), APP_TS);
  const compilerOptions = {
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    target: 'ES2022',
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    noEmit: true,
    types: ['node'],
    ...(typeRoots !== undefined && { typeRoots: [typeRoots] }),
    skipLibCheck: false,
  };
  const config = typeRoots === undefined ? 'tsconfig.json' : 'tsconfig.types-node.json';
  await writeFile(join(app, config), JSON.stringify({ compilerOptions, files: ['app.ts'] }));
  return (await outputOf(join(app, 'node_modules/.bin/tsc'), ['-p', config], { cwd: app })).stdout;
}

describe('the npm package', () => {
  let packed: string;
  let tarball: string;
  const tableName = uniqueTableName('packed');
  const dynamoEnv = () => ({ ...process.env, TABLE: tableName, ENDPOINT: dynamoEndpoint() });

  beforeAll(async () => {
    packed = await mkdtemp(join(tmpdir(), 'nest-dynamo-cache-packed-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', packed], { cwd: repo });
    tarball = join(packed, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);
  }, 300_000);

  afterAll(async () => {
    await rm(packed, { recursive: true, force: true });
    await deleteTable(tableName);
  });

  it('ships the ESM and CommonJS builds of every export, with their declarations and the README, and no tests or sources', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: repo });
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((file) => file.path);
    const manifest = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const exported = JSON.stringify(manifest.exports).match(/\.\/dist\/[^"]+/g)!;
    expect(Object.keys(manifest.exports)).toEqual(['.', ...Object.keys(SUBPATH_VALUES).map((subpath) => `./${subpath}`), './package.json']);
    expect(files).toEqual(expect.arrayContaining([...exported.map((path) => path.slice(2)), 'README.md']));
    expect(files.filter((path) => path.startsWith('test/') || path.startsWith('src/') || /\.spec\.c?js$/.test(path))).toEqual([]);
    // Node would load a .js file under dist/cjs as ESM (the package is "type": "module").
    expect(files.filter((path) => path.startsWith('dist/cjs/') && /\.(js|d\.ts)$/.test(path))).toEqual([]);
  }, 120_000);

  it('ships no source map whose sources it does not ship, and links no map it does not ship', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: repo });
    const shipped = new Set((JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((file) => file.path));
    const maps = [...shipped].filter((path) => path.endsWith('.map'));
    const missing = (await Promise.all(maps.map((path) => missingSources(path, shipped)))).flat();
    expect(missing).toEqual([]);
    const links = await outputOf('grep', ['-rhoE', 'sourceMappingURL=\\S+', join(repo, 'dist')], { cwd: repo });
    expect(links.stdout.split('\n').filter(Boolean).length).toBe(maps.length);
  }, 120_000);

  it('holds no import.meta in the code that CommonJS loads', async () => {
    const { stdout } = await outputOf('grep', ['-rl', 'import.meta', join(repo, 'dist/cjs')], { cwd: repo });
    expect(stdout).toBe('');
  });

  describe('in a fresh ESM app', () => {
    let app: string;

    beforeAll(async () => {
      app = await mkdtemp(join(tmpdir(), 'nest-dynamo-cache-app-'));
      const peers = [
        '@nestjs/common',
        '@nestjs/core',
        '@nestjs/platform-express',
        '@aws-sdk/client-dynamodb',
        'cache-manager',
        'rxjs',
        'reflect-metadata',
        'typescript',
        '@types/node',
      ];
      const dependencies: Record<string, string> = { 'nest-dynamo-cache': `file:${tarball}` };
      for (const name of peers) dependencies[name] = await devVersion(name);
      await installApp(app, { 'package.json': { name: 'fresh-app', private: true, type: 'module', dependencies } });
    }, 300_000);

    afterAll(() => rm(app, { recursive: true, force: true }));

    it('boots a fresh ESM Nest app that caches through it', async () => {
      await writeFile(join(app, 'main.mjs'), APP_ESM);
      const { stdout } = await run('node', ['main.mjs'], { cwd: app, env: dynamoEnv() });
      expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ status: 200, body: { greeting: 'hi', from: 'esm' } });
    }, 60_000);

    it('loads from CommonJS through require(esm) and reads what the ESM app cached', async () => {
      await writeFile(join(app, 'main.cjs'), APP_CJS);
      const { stdout } = await run('node', ['main.cjs'], { cwd: app, env: dynamoEnv() });
      expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ body: { greeting: 'hi', from: 'esm' } });
    }, 60_000);

    it('loads every subpath from ESM (import) and CommonJS (require) alike, and caches through /testing', async () => {
      await writeFile(join(app, 'subpaths.mjs'), SUBPATHS_ESM);
      await writeFile(join(app, 'subpaths.cjs'), SUBPATHS_CJS);
      const expected = { names: SUBPATH_VALUES, value: { from: 'testing' } };
      for (const file of ['subpaths.mjs', 'subpaths.cjs']) {
        const { stdout } = await run('node', [file], { cwd: app });
        expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual(expected);
      }
    }, 60_000);

    it('type-checks a TypeScript app against its declarations, and the declarations themselves (skipLibCheck off)', async () => {
      expect(await typeCheck(app)).toBe('');
    }, 120_000);

    // @types/node 26 reordered TracingChannel's type parameters: a declaration naming them broke there (TS2344).
    it('type-checks its declarations against the newest @types/node too (skipLibCheck off)', async () => {
      const newest = join(app, 'types-node-newest');
      await installApp(newest, { 'package.json': { name: 'types-node-newest', private: true, dependencies: { '@types/node': 'latest' } } });
      const installed = JSON.parse(await readFile(join(newest, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string };
      expect(Number(installed.version.split('.')[0])).toBeGreaterThanOrEqual(26);
      expect(await typeCheck(app, join(newest, 'node_modules/@types'))).toBe('');
    }, 120_000);
  });

  describe('in a CommonJS Nest 11 app made as the Nest 11 CLI makes one (TypeScript nodenext, Jest 30 with ts-jest)', () => {
    let app: string;

    beforeAll(async () => {
      app = await mkdtemp(join(tmpdir(), 'nest-dynamo-cache-nest11-'));
      const manifest = {
        name: 'nest11-app',
        private: true,
        dependencies: {
          'nest-dynamo-cache': `file:${tarball}`,
          '@nestjs/common': '^11',
          '@nestjs/core': '^11',
          '@nestjs/platform-express': '^11',
          '@aws-sdk/client-dynamodb': await devVersion('@aws-sdk/client-dynamodb'),
          'cache-manager': await devVersion('cache-manager'),
          'reflect-metadata': await devVersion('reflect-metadata'),
          rxjs: await devVersion('rxjs'),
        },
        devDependencies: {
          '@nestjs/testing': '^11',
          '@types/jest': '^30',
          '@types/node': '^22',
          jest: '^30',
          'ts-jest': '^29.4',
          // The template's TypeScript at its lowest (^5.7.3), which ts-jest uses, and this repo's 6.x beside it.
          typescript: '~5.7.3',
          typescript6: `npm:typescript@${await devVersion('typescript')}`,
        },
        jest: JEST,
      };
      const configs = {
        'tsconfig.json': TSCONFIG,
        'tsconfig.build.json': TSCONFIG_BUILD,
        'tsconfig.ts6.json': TSCONFIG_TS6,
        'tsconfig.libcheck.json': TSCONFIG_LIBCHECK,
        'tsconfig.node10.json': TSCONFIG_NODE10,
      };
      await installApp(app, { 'package.json': manifest, ...configs, ...SOURCES });
    }, 300_000);

    afterAll(() => rm(app, { recursive: true, force: true }));

    it.each([
      ['5.7', 'typescript', 'tsconfig.json'],
      ['6', 'typescript6', 'tsconfig.ts6.json'],
    ])(
      'type-checks with TypeScript %s: a DynamoCache is a cache-manager Cache, injected with @Inject(CACHE)',
      async (version, name, config) => {
        const tsc = join(app, 'node_modules', name, 'bin/tsc');
        expect((await outputOf('node', [tsc, '--version'], { cwd: app })).stdout).toContain(`Version ${version}.`);
        const checked = await outputOf('node', [tsc, '-p', config, '--noEmit'], { cwd: app });
        expect(checked.stdout).toBe('');
      },
      120_000,
    );

    it('type-checks under moduleResolution node10, subpaths included (typesVersions)', async () => {
      const checked = await outputOf('node', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.node10.json', '--noEmit'], { cwd: app });
      expect(checked.stdout).toBe('');
    }, 120_000);

    it('type-checks the CommonJS declarations themselves and what they import (skipLibCheck off)', async () => {
      const checked = await outputOf('node', ['node_modules/typescript6/bin/tsc', '-p', 'tsconfig.libcheck.json'], { cwd: app });
      expect(checked.stdout).toBe('');
    }, 120_000);

    it('runs a Jest test that boots DynamoCacheModule.forRoot through Test.createTestingModule and round-trips a value', async () => {
      const jest = await outputOf('node', ['node_modules/jest/bin/jest.js', '--ci', 'src/app.spec.ts'], { cwd: app, env: dynamoEnv() });
      expect(jest.stderr).toMatch(/Tests:\s+1 passed, 1 total/);
      expect(jest.code).toBe(0);
    }, 180_000);

    it("runs the app's own Jest unit test on a memory-only cache, with no DynamoDB in its environment", async () => {
      const withoutDynamo = Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !/^(AWS_|TABLE$|ENDPOINT$|DYNAMO)/.test(name)),
      );
      const jest = await outputOf('node', ['node_modules/jest/bin/jest.js', '--ci', 'src/app.service.spec.ts'], {
        cwd: app,
        env: { ...withoutDynamo, AWS_REGION: '', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
      });
      expect(jest.stderr).toMatch(/Tests:\s+1 passed, 1 total/);
      expect(jest.code).toBe(0);
    }, 180_000);

    it('is compiled by tsc and started with node dist/main.js, serving a cached route', async () => {
      const built = await outputOf('node', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: app });
      expect(built.stdout).toBe('');
      const server = spawn('node', ['dist/main.js'], { cwd: app, env: dynamoEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const [url] = (await Promise.race([
          once(createInterface({ input: server.stdout }), 'line'),
          once(server, 'exit').then(([code]) => Promise.reject(new Error(`node dist/main.js exited with ${String(code)}`))),
        ])) as [string];
        const first = await (await fetch(`${url}/hello`)).json();
        const second = await (await fetch(`${url}/hello`)).json();
        expect(first).toEqual({ greeting: 'hi', computed: 1 });
        expect(second).toEqual(first);
      } finally {
        server.kill();
      }
    }, 120_000);
  });
});
