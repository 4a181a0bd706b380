import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, expect } from 'vitest';

/**
 * For a test file that starts several Nest apps (instances of one service on one table): `start`
 * builds and inits one from its imports, and every app is closed after the file's tests.
 */
export function useNestApps(): {
  start(metadata: Pick<ModuleMetadata, 'imports' | 'controllers' | 'providers'>): Promise<INestApplication>;
} {
  const apps: INestApplication[] = [];
  afterAll(() => Promise.all(apps.map((app) => app.close())));
  return {
    async start(metadata) {
      const moduleRef = await Test.createTestingModule(metadata).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      apps.push(app);
      return app;
    },
  };
}

/** Express's response or Fastify's reply, as a `@Res({ passthrough: true })` handler gets it. */
export type PassthroughResponse = { setHeader(name: string, value: string): void } | { header(name: string, value: string): void };

/** Sets a header as a passthrough handler does: Express's `res.setHeader`, Fastify's `reply.header` (a reply has no setHeader). */
export function setResponseHeader(response: PassthroughResponse, name: string, value: string): void {
  if ('setHeader' in response) response.setHeader(name, value);
  else response.header(name, value);
}

/** Posts GraphQL queries to an app's /graphql: a query's data, the answer checked to hold no errors. */
export function graphqlData(app: INestApplication): (query: string, headers?: Record<string, string>) => Promise<any> {
  return async (query, headers = {}) => {
    const { body } = await request(app.getHttpServer()).post('/graphql').set(headers).send({ query }).expect(200);
    expect(body.errors).toBeUndefined();
    return body.data;
  };
}
