import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheEvict, Cacheable, DynamoCacheModule, DynamoCacheRegistry, DynamoStore } from '../../src/index.js';
import { useCacheTable } from '../support/dynamo.js';

const { client, tableName } = useCacheTable('methods');
const root = { tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

  @Cacheable({ cache: 'users', key(this: UsersService, id: string) { return `${this.tenant}:score:${id}`; } })
  score(id: string): number {
    this.loads.push(`score:${id}`);
    return id.length * 10;
  }

  @Cacheable({ cache: 'users', key: (id: string) => `user:${id}` })
  async failing(id: string) {
    this.loads.push(`failing:${id}`);
    throw new Error(`no user ${id}`);
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

describe('@Cacheable and @CacheEvict on provider methods', () => {
  let app: INestApplication;
  let users: UsersService;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: 'm1:' }), DynamoCacheModule.forFeature({ name: 'users' })],
      providers: [UsersService],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
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

  it('keeps a synchronous method synchronous, answered from memory, with the provider as the key function\'s this', () => {
    expect(users.score('abc')).toBe(30);
    const again = users.score('abc');
    expect(again).toBe(30); // a number, not a promise
    expect(users.loads.filter((load) => load === 'score:abc')).toHaveLength(1);
    expect(app.get(DynamoCacheRegistry).get('users').peek('acme:score:abc')).toBe(30);
  });

  it('passes the method\'s own error to its caller and caches nothing', async () => {
    await expect(users.failing('x')).rejects.toThrow('no user x');
    await expect(users.failing('x')).rejects.toThrow('no user x');
    expect(users.loads.filter((load) => load === 'failing:x')).toHaveLength(2);
  });

  it('evicts by key after the method resolves, and every entry with allEntries', async () => {
    await users.findOne('8');
    await users.rename('8');
    await users.findOne('8');
    expect(users.loads.filter((load) => load === '8')).toHaveLength(2);

    expect(users.forgetEverything()).toBe('done'); // still synchronous
    // Memory forgets at once; DynamoDB's clear (a scan, then deletes) finishes in the background.
    expect(app.get(DynamoCacheRegistry).get('users').peek('user:8')).toBeUndefined();
    const dynamo = new DynamoStore({ ...root, partitionKeyPrefix: 'm1:users:' });
    for (let waited = 0; (await dynamo.get('user:8')) !== undefined && waited < 5_000; waited += 50) await sleep(50);
    await users.findOne('8');
    expect(users.loads.filter((load) => load === '8')).toHaveLength(3);
  });
});
