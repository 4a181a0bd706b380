/**
 * A CommonJS Nest 11 app made as the Nest 11 CLI makes one (nestjs/typescript-starter): no "type" in
 * its package.json, the template's tsconfig and Jest config, relative imports without extensions.
 * The package test installs it beside the packed tarball.
 */

/** The template's tsconfig.json, as it is. */
export const TSCONFIG = {
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    resolvePackageJsonExports: true,
    esModuleInterop: true,
    isolatedModules: true,
    declaration: true,
    removeComments: true,
    emitDecoratorMetadata: true,
    experimentalDecorators: true,
    allowSyntheticDefaultImports: true,
    target: 'ES2023',
    sourceMap: true,
    outDir: './dist',
    baseUrl: './',
    incremental: true,
    forceConsistentCasingInFileNames: true,
    skipLibCheck: true,
  },
};

/** The template's tsconfig as apps started before Nest 11 have it: CommonJS, so `moduleResolution` node10, which reads no `exports` map. */
export const TSCONFIG_NODE10 = {
  extends: './tsconfig.json',
  compilerOptions: { module: 'commonjs', moduleResolution: 'node10', resolvePackageJsonExports: false },
};

/** The template's tsconfig.build.json. */
export const TSCONFIG_BUILD = { extends: './tsconfig.json', exclude: ['node_modules', 'dist', 'test', '**/*spec.ts'] };

/**
 * What TypeScript 6 asks of the template itself, whatever it imports: `baseUrl` is deprecated
 * (TS5101 without this acknowledgement) and `types` now defaults to none (no `process`, no `describe`).
 */
export const TSCONFIG_TS6 = { extends: './tsconfig.json', compilerOptions: { ignoreDeprecations: '6.0', types: ['node', 'jest'] } };

/** The package's CommonJS declarations checked themselves (skipLibCheck off), with what they import: Nest 11's, keyv's and cache-manager's .d.cts. */
export const TSCONFIG_LIBCHECK = {
  extends: './tsconfig.ts6.json',
  compilerOptions: { skipLibCheck: false, noEmit: true, incremental: false, types: ['node'] },
  files: ['src/app.service.ts', 'src/subpaths.ts'],
};

/** The template's "jest" section of package.json. */
export const JEST = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: 'src',
  testRegex: '.*\\.spec\\.ts$',
  transform: { '^.+\\.(t|j)s$': 'ts-jest' },
  collectCoverageFrom: ['**/*.(t|j)s'],
  coverageDirectory: '../coverage',
  testEnvironment: 'node',
};

const LOCAL = `{ endpoint: process.env.ENDPOINT, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }`;

export const SOURCES: Record<string, string> = {
  'src/main.ts': `
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap() {
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  console.log(await app.getUrl());
}
bootstrap();
`,
  'src/app.module.ts': `
import { Module } from '@nestjs/common';
import { DynamoCacheModule } from 'nest-dynamo-cache';
import { AppController } from './app.controller';
import { AppService } from './app.service';

@Module({
  imports: [DynamoCacheModule.forRoot({ tableName: process.env.TABLE!, createTableIfNotExists: true, ...${LOCAL} })],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
`,
  'src/app.controller.ts': `
import { Controller, Get } from '@nestjs/common';
import { AppService } from './app.service';

@Controller()
export class AppController {
  constructor(private readonly appService: AppService) {}

  @Get('hello')
  hello() {
    return this.appService.hello();
  }
}
`,
  // DynamoCache imported as a value: emitDecoratorMetadata writes it into the constructor's metadata.
  'src/app.service.ts': `
import { Inject, Injectable } from '@nestjs/common';
import type { Cache } from 'cache-manager';
import { CACHE, DynamoCache } from 'nest-dynamo-cache';

@Injectable()
export class AppService {
  private computed = 0;
  readonly cacheManager: Cache;

  constructor(@Inject(CACHE) private readonly dynamoCache: DynamoCache) {
    const c: Cache = dynamoCache;
    this.cacheManager = c;
  }

  hello(): Promise<{ greeting: string; computed: number }> {
    return this.dynamoCache.wrap('nest11-hello', async () => ({ greeting: 'hi', computed: ++this.computed }), 60_000);
  }
}
`,
  'src/app.spec.ts': `
import { Test } from '@nestjs/testing';
import type { Cache } from 'cache-manager';
import { CACHE, DynamoCacheModule } from 'nest-dynamo-cache';

async function boot() {
  const moduleRef = await Test.createTestingModule({
    imports: [DynamoCacheModule.forRoot({ tableName: process.env.TABLE!, createTableIfNotExists: true, ...${LOCAL} })],
  }).compile();
  return moduleRef.init();
}

describe('DynamoCacheModule in a CommonJS Nest 11 app', () => {
  it('round-trips a value through DynamoDB', async () => {
    const writer = await boot();
    const written: Cache = writer.get(CACHE);
    await written.set('from-jest', { runner: 'jest' }, 60_000);
    await writer.close();
    // A second module has an empty memory tier: what it reads comes from the table.
    const reader = await boot();
    await expect(reader.get<Cache>(CACHE).get('from-jest')).resolves.toEqual({ runner: 'jest' });
    await reader.close();
  });
});
`,
  // Every subpath, from CommonJS: type-checked with the app, its declarations with skipLibCheck off.
  'src/subpaths.ts': `
import type { BackplaneOptions, DistributedModuleOptions } from 'nest-dynamo-cache/options';
import { type CacheStats, instrumentCaches } from 'nest-dynamo-cache/observability';
import { DynamoSessionStore, type SessionData } from 'nest-dynamo-cache/session';
import { DynamoStore, MemoryStore, type TableSchema } from 'nest-dynamo-cache/store';
import { memoryCache, memoryCacheModule } from 'nest-dynamo-cache/testing';

export const subpaths = { DynamoStore, MemoryStore, DynamoSessionStore, instrumentCaches, memoryCache, memoryCacheModule };
export type SubpathTypes = [TableSchema, SessionData, CacheStats, BackplaneOptions, DistributedModuleOptions];
`,
  // The app's own unit test of its service, as README's "Memory-only mode" shows: no table, no
  // endpoint, no DynamoDB Local (the package test runs it with none in its environment).
  'src/app.service.spec.ts': `
import { Test } from '@nestjs/testing';
import { MemoryStore } from 'nest-dynamo-cache/store';
import { memoryCacheModule } from 'nest-dynamo-cache/testing';
import { AppService } from './app.service';

describe('AppService, with a memory-only cache', () => {
  it('computes once and answers from the cache after', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [memoryCacheModule()],
      providers: [AppService],
    }).compile();
    await moduleRef.init();
    const service = moduleRef.get(AppService);
    expect(service.cacheManager.stores).toHaveLength(1);
    await expect(service.hello()).resolves.toEqual({ greeting: 'hi', computed: 1 });
    await expect(service.hello()).resolves.toEqual({ greeting: 'hi', computed: 1 });
    expect((service as unknown as { dynamoCache: { store: unknown } }).dynamoCache.store).toBeInstanceOf(MemoryStore);
    await moduleRef.close();
  });
});
`,
};
