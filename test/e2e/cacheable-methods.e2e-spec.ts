import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheEvict, Cacheable, DynamoCache, DynamoCacheModule, DynamoCacheRegistry } from '../../src/index.js';
import { DynamoStore } from '../../src/entries/store.js';
import { useCacheTable, cacheTableAttributes } from '../support/dynamo.js';
import { sleep } from '../support/seen-within.js';

const { client, tableName } = useCacheTable('methods');
const root = { tableName, client, ...cacheTableAttributes };

@Injectable()
class UsersService {
  readonly loads: string[] = [];
  tenant = 'acme';

  @Cacheable({ cache: 'users', key: (id: string) => `user:${id}`, ttl: 60_000 })
  async findOne(id: string) {
    this.loads.push(id);
    await sleep(50);
    return { id, name: `user ${id}` };
  }

  // Not declared async, as a repository call often is not: the first call's promise tells.
  @Cacheable({ cache: 'users', ttl: 60_000 })
  findAll(limit: number) {
    this.loads.push(`all:${limit}`);
    return Promise.resolve([{ id: '1' }].slice(0, limit));
  }

  @Cacheable({
    cache: 'users',
    key(this: UsersService, id: string) {
      return `${this.tenant}:score:${id}`;
    },
  })
  score(id: string): number {
    this.loads.push(`score:${id}`);
    return id.length * 10;
  }

  @Cacheable({ cache: 'users', key: (id: string) => `user:${id}` })
  async failing(id: string) {
    this.loads.push(`failing:${id}`);
    throw new Error(`no user ${id}`);
  }

  // Its default key is made of its arguments: a Set's contents must tell two calls apart.
  @Cacheable({ cache: 'users', ttl: 60_000 })
  async permissionsFor(roles: Set<string>, options?: { audit?: boolean; at?: bigint }) {
    this.loads.push(`permissions:${[...roles].join('+')}`);
    return { roles: [...roles], audit: options?.audit ?? null };
  }

  @Cacheable({ cache: 'users', ttl: 60_000 })
  async withCallback(id: string, onLoad: () => void) {
    this.loads.push(`callback:${id}`);
    onLoad();
    return id;
  }

  @Cacheable({ cache: 'users', ttl: () => Number.NaN })
  async nanTtl(id: string) {
    this.loads.push(`nan:${id}`);
    return { id };
  }

  @Cacheable({ cache: 'users', ttl: () => -5 })
  negativeTtlSync(id: string) {
    this.loads.push(`negative:${id}`);
    return { id };
  }

  failNext = false;

  @Cacheable({ cache: 'users', key: 'flaky', ttl: 1, failSafe: true })
  async flaky() {
    this.loads.push('flaky');
    if (this.failNext) throw new Error('the database is gone');
    return 'fine';
  }

  @CacheEvict({ cache: 'users', keys: (id: string) => [`user:${id}`] })
  async rename(id: string) {
    return id;
  }

  @CacheEvict({ cache: 'users', allEntries: true })
  forgetEverything() {
    return 'done';
  }
}

// Entries of one user, from a sync and an async method, tagged by a function of the result, the argument and `this`.
@Injectable()
class ProfilesService {
  readonly loads: string[] = [];
  realm = 'acme';

  @Cacheable({
    cache: 'users',
    key: (id: string) => `summary:${id}`,
    ttl: 600_000,
    tags(this: ProfilesService, summary: { id: string }, id: string) {
      return [`${this.realm}:user:${id}`, `summary:${summary.id}`];
    },
  })
  summary(id: string) {
    this.loads.push(`summary:${id}`);
    return { id };
  }

  @Cacheable({
    cache: 'users',
    key: (id: string) => `orders:${id}`,
    ttl: 600_000,
    tags(this: ProfilesService, orders: { owner: string }, id: string) {
      return [`${this.realm}:user:${id}`, `orders:${orders.owner}`];
    },
  })
  async orders(id: string) {
    this.loads.push(`orders:${id}`);
    return { owner: id };
  }

  @CacheEvict({
    cache: 'users',
    tags(this: ProfilesService, id: string) {
      return [`${this.realm}:user:${id}`];
    },
  })
  async update(id: string) {
    return id;
  }
}

const warnings: string[] = [];
const logger = { log() {}, error() {}, debug() {}, verbose() {}, warn: (message: unknown) => void warnings.push(String(message)) };

describe('@Cacheable and @CacheEvict on provider methods', () => {
  let app: INestApplication;
  let users: UsersService;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: 'm1:' }), DynamoCacheModule.forFeature({ name: 'users' })],
      providers: [UsersService, ProfilesService],
    }).compile();
    app = moduleRef.createNestApplication({ logger });
    await app.init();
    users = app.get(UsersService);
  });
  afterAll(() => app.close());

  it('caches an async method in both tiers under its key, with one call for concurrent callers', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => users.findOne('7')));
    expect(results.every((result) => result.name === 'user 7')).toBe(true);
    expect(users.loads.filter((load) => load === '7')).toHaveLength(1);
    expect(await new DynamoStore({ ...root, partitionKeyPrefix: 'm1:users:' }).get('user:7')).toEqual({ id: '7', name: 'user 7' });
  });

  it('caches a method that returns a promise without being async, under a key of its class, name and arguments', async () => {
    expect(await users.findAll(1)).toEqual([{ id: '1' }]);
    expect(await users.findAll(1)).toEqual([{ id: '1' }]);
    expect(users.loads.filter((load) => load === 'all:1')).toHaveLength(1);
    expect(await app.get(DynamoCacheRegistry).get('users').get('UsersService.findAll([1])')).toEqual([{ id: '1' }]);
  });

  it("keeps a synchronous method synchronous, answered from memory, with the provider as the key function's this", () => {
    expect(users.score('abc')).toBe(30);
    const again = users.score('abc');
    expect(again).toBe(30); // a number, not a promise
    expect(users.loads.filter((load) => load === 'score:abc')).toHaveLength(1);
    expect(app.get(DynamoCacheRegistry).get('users').peek('acme:score:abc')).toBe(30);
  });

  it("passes the method's own error to its caller and caches nothing", async () => {
    await expect(users.failing('x')).rejects.toThrow('no user x');
    await expect(users.failing('x')).rejects.toThrow('no user x');
    expect(users.loads.filter((load) => load === 'failing:x')).toHaveLength(2);
  });

  it('keys a call by the exact value of its arguments: Sets, null apart from undefined, BigInts included, object keys in any order', async () => {
    expect((await users.permissionsFor(new Set(['admin']))).roles).toEqual(['admin']);
    expect((await users.permissionsFor(new Set(['guest']))).roles).toEqual(['guest']);
    await users.permissionsFor(new Set(['guest']), { audit: true, at: 1n });
    await users.permissionsFor(new Set(['guest']), { at: 1n, audit: true });
    await users.permissionsFor(new Set(['guest']), { at: 2n, audit: true });
    await users.permissionsFor(new Set(['guest']), undefined); // the same call as without the argument
    await users.permissionsFor(new Set(['guest']), null as never);
    expect(users.loads.filter((load) => load.startsWith('permissions:'))).toEqual([
      'permissions:admin',
      'permissions:guest',
      'permissions:guest', // { audit, at: 1n }, and the same object in another order after it
      'permissions:guest', // at: 2n
      'permissions:guest', // null
    ]);
  });

  it('calls a method whose arguments have no exact key (a function) without the cache, with a warning naming it', async () => {
    let called = 0;
    await users.withCallback('a', () => called++);
    await users.withCallback('a', () => called++);
    expect(called).toBe(2);
    expect(warnings.some((line) => line.includes('UsersService.withCallback') && line.includes('is a function'))).toBe(true);
  });

  it('serves and does not store the value of a method whose ttl function returns NaN or a negative ttl, with a warning naming it', async () => {
    expect(await users.nanTtl('n')).toEqual({ id: 'n' });
    expect(await users.nanTtl('n')).toEqual({ id: 'n' });
    expect(users.negativeTtlSync('s')).toEqual({ id: 's' });
    expect(users.negativeTtlSync('s')).toEqual({ id: 's' });
    expect(users.loads.filter((load) => load === 'nan:n' || load === 'negative:s')).toEqual(['nan:n', 'nan:n', 'negative:s', 'negative:s']);
    expect(warnings.some((line) => line.includes('UsersService.nanTtl') && line.includes('its ttl function returned NaN'))).toBe(true);
    expect(warnings.some((line) => line.includes('UsersService.negativeTtlSync') && line.includes('its ttl function returned -5'))).toBe(
      true,
    );
  });

  it("reports the method's own error that fail-safe answered for as an Error naming the method", async () => {
    const reported: unknown[] = [];
    const cache = app.get(DynamoCacheRegistry).get('users');
    cache.on('cache:error', (event) => void reported.push(event.error));
    expect(await users.flaky()).toBe('fine');
    users.failNext = true;
    // Past the entry's 1 ms ttl, the method runs again, fails, and fail-safe answers with the last value.
    for (let attempt = 0; attempt < 50 && reported.length === 0; attempt++) expect(await users.flaky()).toBe('fine');
    const error = reported[0] as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain('UsersService.flaky');
    expect(error.message).toContain('the database is gone');
    expect(warnings.filter((line) => line.includes('[object Object]'))).toEqual([]);
  });

  it("tags a sync method's entries as an async method's, so that @CacheEvict({ tags }) of one user evicts that user's on both", async () => {
    const profiles = app.get(ProfilesService);
    // Another instance with no memory tier, fresh each time: one takes the tag times it read as current for 1 s.
    const elsewhere = () => new DynamoCache(new DynamoStore({ ...root, partitionKeyPrefix: 'm1:users:' }), { memory: false });
    for (const id of ['1', '2']) {
      expect(profiles.summary(id)).toEqual({ id });
      expect(profiles.summary(id)).toEqual({ id });
      expect(await profiles.orders(id)).toEqual({ owner: id });
      expect(await profiles.orders(id)).toEqual({ owner: id });
      // The sync method's value reaches DynamoDB in the background: the eviction must find it there too.
      await expect.poll(() => elsewhere().get(`summary:${id}`), { timeout: 20_000, interval: 50 }).toEqual({ id });
    }
    expect(profiles.loads).toEqual(['summary:1', 'orders:1', 'summary:2', 'orders:2']);
    expect(warnings.filter((line) => line.includes('ProfilesService'))).toEqual([]);

    await profiles.update('1');
    const afterEviction = elsewhere();
    expect(await afterEviction.get('summary:1')).toBeUndefined();
    expect(await afterEviction.get('orders:1')).toBeUndefined();
    expect(await afterEviction.get('summary:2')).toEqual({ id: '2' });
    expect(await afterEviction.get('orders:2')).toEqual({ owner: '2' });
    for (const id of ['1', '2']) {
      expect(profiles.summary(id)).toEqual({ id });
      expect(await profiles.orders(id)).toEqual({ owner: id });
    }
    expect(profiles.loads).toEqual(['summary:1', 'orders:1', 'summary:2', 'orders:2', 'summary:1', 'orders:1']);
  });

  it('evicts by key after the method resolves, and every entry with allEntries', async () => {
    await users.findOne('8');
    await users.rename('8');
    await users.findOne('8');
    expect(users.loads.filter((load) => load === '8')).toHaveLength(2);

    expect(users.forgetEverything()).toBe('done'); // still synchronous
    // Memory forgets at once; DynamoDB's cleared-at time is written in the background, and read by
    // another instance's cache (here one with no memory tier) as a miss once it has landed.
    expect(app.get(DynamoCacheRegistry).get('users').peek('user:8')).toBeUndefined();
    const elsewhere = new DynamoCache(new DynamoStore({ ...root, partitionKeyPrefix: 'm1:users:' }), { memory: false });
    await expect.poll(() => elsewhere.get('user:8'), { timeout: 20_000, interval: 50 }).toBeUndefined();
    await users.findOne('8');
    expect(users.loads.filter((load) => load === '8')).toHaveLength(3);
  });
});
