import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTable, localModuleOptions, uniqueTableName } from '../test/support/dynamo.js';
import { AppModule } from './app.module.js';
import { configureApp } from './configure-app.js';
import { UsersService } from './users/users.service.js';

/** Two instances of the sample behind an imaginary load balancer: one table, nothing else shared. */
describe('the sample app: users behind @Cacheable, and a session counter across two instances', () => {
  const tableName = uniqueTableName('sample_two');
  const apps: INestApplication[] = [];

  async function instance(): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.register(localModuleOptions(tableName))],
    }).compile();
    const app = configureApp(moduleRef.createNestApplication({ logger: false }), 'test-secret');
    await app.init();
    apps.push(app);
    return app;
  }

  beforeAll(async () => {
    await instance();
    await instance();
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await deleteTable(tableName);
    await deleteTable(`${tableName}_notes`);
  });

  it('caches a note in front of its database, and a write on one instance evicts it for both', async () => {
    const [a, b] = apps.map((app) => () => request(app.getHttpServer()));
    await a!().put('/notes/n1').send({ version: 1, text: 'first' }).expect(200);
    const miss = await b!().get('/notes/n1').expect(200);
    expect([miss.headers['x-cache'], miss.body]).toEqual(['MISS', { id: 'n1', version: 1, text: 'first' }]);
    expect((await b!().get('/notes/n1')).headers['x-cache']).toBe('HIT');
    await b!().put('/notes/n1').send({ version: 2, text: 'second' }).expect(200);
    expect((await b!().get('/notes/n1')).body.version).toBe(2);
    expect((await a!().get('/notes/n1')).body.version).toBe(2);
    await a!().get('/notes/none').expect(404);
  });

  it('answers bad input to PUT /notes/:id with a 400 that says what is wrong, and writes nothing', async () => {
    const [a] = apps.map((app) => () => request(app!.getHttpServer()));
    const refused = async (id: string, body: unknown) =>
      (
        await a!()
          .put(`/notes/${id}`)
          .send(body as object)
          .expect(400)
      ).body.message as string;
    expect(await refused('n2', { text: 'no version' })).toBe('version must be a whole number >= 0, got undefined.');
    expect(await refused('n2', { version: 'two', text: 'x' })).toBe('version must be a whole number >= 0, got "two".');
    expect(await refused('n2', { version: -1, text: 'x' })).toBe('version must be a whole number >= 0, got -1.');
    expect(await refused('n2', { version: 1.5, text: 'x' })).toBe('version must be a whole number >= 0, got 1.5.');
    expect(await refused('n2', { version: 1 })).toBe('text must be a string, got undefined.');
    expect(await refused('n2', { version: 1, text: 'x'.repeat(10_001) })).toBe('text must be at most 10000 characters, got 10001.');
    expect(await refused('n2', [1, 2])).toBe('The body must be a JSON object { version, text }.');
    expect(await refused('x'.repeat(300), { version: 1, text: 'x' })).toMatch(/^id must be 1 to 64 letters, digits, "-" or "_"/);
    expect(
      (
        await a!()
          .get(`/notes/${'x'.repeat(300)}`)
          .expect(400)
      ).body.message,
    ).toMatch(/^id must be/);
    await a!().get('/notes/n2').expect(404);
  });

  it('caches the slow users list in the named cache, and refetches it after DELETE /users/cache', async () => {
    const [a] = apps;
    const first = await request(a!.getHttpServer()).get('/users').expect(200);
    expect(first.headers['x-cache']).toBe('MISS');
    expect(first.body).toHaveLength(3);
    const second = await request(a!.getHttpServer()).get('/users').expect(200);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(a!.get(UsersService).upstreamCalls).toBe(1);

    await request(a!.getHttpServer()).delete('/users/cache').expect(204);
    expect((await request(a!.getHttpServer()).get('/users')).headers['x-cache']).toBe('MISS');
    expect(a!.get(UsersService).upstreamCalls).toBe(2);
  });

  it('serves the other instance the list the first one cached, from DynamoDB', async () => {
    const [a, b] = apps;
    await request(a!.getHttpServer()).delete('/users/cache').expect(204);
    await request(a!.getHttpServer()).get('/users').expect(200);
    const fromB = await request(b!.getHttpServer()).get('/users').expect(200);
    expect(fromB.headers['x-cache']).toBe('HIT');
    expect(b!.get(UsersService).upstreamCalls).toBe(0);
  });

  it('keeps one session counter for a user whose requests land on either instance', async () => {
    const [a, b] = apps;
    const first = await request(a!.getHttpServer()).get('/visits').expect(200);
    expect(first.body).toEqual({ views: 1 });
    const sessionCookie = first.headers['set-cookie']![0]!.split(';')[0]!;
    const views: number[] = [];
    for (const app of [b, a, b, b, a])
      views.push((await request(app!.getHttpServer()).get('/visits').set('Cookie', sessionCookie).expect(200)).body.views);
    expect(views).toEqual([2, 3, 4, 5, 6]);
    // Another browser has its own session.
    expect((await request(b!.getHttpServer()).get('/visits').expect(200)).body).toEqual({ views: 1 });
  });
});
