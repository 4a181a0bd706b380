import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { Cacheable, CacheRegistrationError, DynamoCacheModule } from '../../src/index.js';
import { memoryLogger, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';

const { client, tableName } = useCacheTable('keyowners');
const root = { tableName, client, ...cacheTableAttributes, logger: memoryLogger() };

/** Two modules' own services of one name, as two teams (or a minifier) would name them. */
function reportsService(team: string, key?: (id: number) => string) {
  @Injectable()
  class ReportsService {
    @Cacheable({ ttl: 60_000, ...(key && { key }) })
    async get(id: number) {
      return { team, id };
    }
  }
  return ReportsService;
}

async function boot(...services: Array<ReturnType<typeof reportsService>>) {
  const modules = services.map((service) => {
    @Module({ providers: [service], exports: [service] })
    class TeamModule {}
    return TeamModule;
  });
  const moduleRef = await Test.createTestingModule({ imports: [DynamoCacheModule.forRoot(root), ...modules] }).compile();
  return moduleRef.createNestApplication({ logger: false }).init();
}

describe('default keys of provider methods of two classes with one name', () => {
  it("fail start-up, naming the class and what to do, instead of answering one class with the other's results", async () => {
    const failure = boot(reportsService('A'), reportsService('B'));
    await expect(failure).rejects.toBeInstanceOf(CacheRegistrationError);
    await expect(failure).rejects.toThrow(/two provider classes are named "ReportsService".*ReportsService\.get.*Give @Cacheable a key/);
  });

  it('work once one of them has a key of its own', async () => {
    const A = reportsService('A');
    const B = reportsService('B', (id) => `team-b:report:${id}`);
    const app = await boot(A, B);
    expect(await app.get(A).get(1)).toEqual({ team: 'A', id: 1 });
    expect(await app.get(B).get(1)).toEqual({ team: 'B', id: 1 });
    await app.close();
  });
});
