import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTable, dynamoEndpoint, uniqueTableName } from '../support/dynamo.js';

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
const { DynamoStore, DynamoCache } = require('nest-dynamo-cache');
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
import { CACHE, type DynamoCache, DynamoCacheModule, DynamoStore, type EntryOptions } from 'nest-dynamo-cache';
import Keyv from 'keyv';

@Injectable()
export class Service {
  constructor(@Inject(CACHE) private readonly cache: DynamoCache) {}
  asCacheManager(): Cache { return this.cache; }
  sliding(): Promise<number> { const options: EntryOptions = { slidingExpiration: 1000 }; return this.cache.set('k', 1, options); }
}
export const module = DynamoCacheModule.forRootAsync({ useFactory: () => ({ tableName: 'app_cache' }) });
export const keyv = new Keyv({ store: new DynamoStore({ tableName: 'app_cache' }) });
`;

describe('the npm package', () => {
  let app: string;
  const tableName = uniqueTableName('packed');

  beforeAll(async () => {
    app = await mkdtemp(join(tmpdir(), 'nest-dynamo-cache-app-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', app], { cwd: repo });
    const tarball = join(app, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);
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
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'fresh-app', private: true, type: 'module', dependencies }));
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app });
  }, 300_000);

  afterAll(async () => {
    await rm(app, { recursive: true, force: true });
    await deleteTable(tableName);
  });

  it('ships the build and the README, and no tests or sources', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: repo });
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((file) => file.path);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('README.md');
    expect(files.filter((path) => path.startsWith('test/') || path.startsWith('src/') || path.endsWith('.spec.js'))).toEqual([]);
  }, 120_000);

  it('boots a fresh ESM Nest app that caches through it', async () => {
    await writeFile(join(app, 'main.mjs'), APP_ESM);
    const { stdout } = await run('node', ['main.mjs'], { cwd: app, env: { ...process.env, TABLE: tableName, ENDPOINT: dynamoEndpoint() } });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ status: 200, body: { greeting: 'hi', from: 'esm' } });
  }, 60_000);

  it('loads from CommonJS through require(esm) and reads what the ESM app cached', async () => {
    await writeFile(join(app, 'main.cjs'), APP_CJS);
    const { stdout } = await run('node', ['main.cjs'], { cwd: app, env: { ...process.env, TABLE: tableName, ENDPOINT: dynamoEndpoint() } });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ body: { greeting: 'hi', from: 'esm' } });
  }, 60_000);

  it('type-checks a TypeScript app against its declarations, and the declarations themselves (skipLibCheck off)', async () => {
    await writeFile(join(app, 'app.ts'), APP_TS);
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          noEmit: true,
          types: ['node'],
          skipLibCheck: false,
        },
        files: ['app.ts'],
      }),
    );
    const checked = await run(join(app, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: app }).catch(
      (error: { stdout: string }) => ({ stdout: error.stdout }),
    );
    expect(checked.stdout).toBe('');
  }, 120_000);
});
