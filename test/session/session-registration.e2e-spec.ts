import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CacheRegistrationError,
  type DynamoCache,
  DynamoCacheModule,
  DynamoCacheRegistry,
  type DynamoCacheModuleOptions,
  getCacheToken,
} from '../../src/index.js';
import { DynamoSessionStore } from '../../src/entries/session.js';
import { memoryLogger, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';
import { logIn, sessionApp, whoIs } from './session-support.js';

const { client, tableName } = useCacheTable('session_registration');

const sessionCaches = (app: INestApplication) =>
  app
    .get(DynamoCacheRegistry)
    .all()
    .filter((cache) => cache.name === 'session');

describe('the session named cache', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(
    options: Partial<DynamoCacheModuleOptions>,
    imports: Parameters<typeof Test.createTestingModule>[0]['imports'] = [],
  ) {
    const moduleRef = await Test.createTestingModule({
      imports: [
        DynamoCacheModule.forRoot({ tableName, client, ...cacheTableAttributes, logger: memoryLogger(), ...options }),
        ...(imports ?? []),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return app;
  }

  it('is not registered by an app without the session option', async () => {
    expect(sessionCaches(await start({}))).toEqual([]);
  });

  it('leaves the name to the app without the session option: its own forFeature({ name: "session" }) works, with its own options', async () => {
    await start({}, [DynamoCacheModule.forFeature({ name: 'session', ttl: 5_000 })]);
    const own = app!.get<DynamoCache>(getCacheToken('session'));
    expect(sessionCaches(app!)).toEqual([own]);
    await own.set('greeting', 'hello');
    expect(await own.get('greeting')).toBe('hello');
  });

  it('is registered at start-up with the session option', async () => {
    expect(sessionCaches(await start({ session: {} }))).toHaveLength(1);
  });

  it("is registered on the store's first use without the session option, so that sessions still work", async () => {
    app = await sessionApp({ tableName, client });
    expect(sessionCaches(app)).toEqual([]);
    const { cookie } = await logIn(app);
    expect(await whoIs(app, cookie)).toBe('ada');
    expect(sessionCaches(app)).toHaveLength(1);
  });

  it("fails the store's first use, saying what to do, when the app took the name for a cache of its own", async () => {
    await start({}, [DynamoCacheModule.forFeature({ name: 'session', ttl: 5_000 })]);
    const store = app!.get(DynamoSessionStore);
    expect(() => store.get('abc', () => undefined)).toThrow(CacheRegistrationError);
    expect(() => store.get('abc', () => undefined)).toThrow(/forFeature\(\{ name: 'session' \}\).*session: \{\}/);
  });
});
