import { createRequire } from 'node:module';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { Context, Field, GraphQLModule, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cacheable, DynamoCacheModule } from '../../src/index.js';
import { useCacheTable } from '../support/dynamo.js';
import { graphqlData } from '../support/nest-apps.js';
import { useStoppedClock } from '../support/stopped-clock.js';

// A GraphQL context with no HTTP request to read headers from: nothing tells users apart, so a
// resolver runs uncached there (unless shared: true), and the app's log says so once per resolver.
const { client, tableName } = useCacheTable('graphql_no_request');
const root = { tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl' };
// Nest's GraphQL serves subscriptions with graphql-ws on ws: the client side of the same packages.
const WebSocket = createRequire(import.meta.url)('ws') as unknown;

const runs: Record<string, number> = {};
const ran = (name: string) => (runs[name] = (runs[name] ?? 0) + 1);

@ObjectType()
class Reader {
  @Field(() => String) name!: string;
  @Field(() => Int) run!: number;
}

/** What either context holds: a user a context function kept, or graphql-ws's connection params. */
interface WhoContext {
  readonly req?: { readonly user?: string; readonly connectionParams?: { readonly user?: string } };
}

@Resolver(() => Reader)
class ReadersResolver {
  @Query(() => Reader)
  @Cacheable({ ttl: 60_000 })
  whoami(@Context() context: WhoContext): Reader {
    return { name: context.req?.user ?? context.req?.connectionParams?.user ?? 'anonymous', run: ran('whoami') };
  }

  @Query(() => Reader)
  @Cacheable({ ttl: 60_000 })
  reader(): Reader {
    return { name: 'the reader', run: ran('reader') };
  }

  @Query(() => Reader)
  @Cacheable({ ttl: 60_000, shared: true })
  librarian(): Reader {
    return { name: 'the librarian', run: ran('librarian') };
  }
}

/** The app's own Nest logger, its warnings kept: the module is given no logger of its own. */
function capturedLogger(): LoggerService & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, log() {}, error() {}, debug() {}, verbose() {}, warn: (message: unknown) => void warnings.push(String(message)) };
}

async function start(graphql: Partial<ApolloDriverConfig>, logger: LoggerService, prefix: string): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: prefix }),
      GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true, ...graphql }),
    ],
    providers: [ReadersResolver],
  }).compile();
  const app = moduleRef.createNestApplication({ logger });
  await app.init();
  return app;
}

const resolverWarnings = (warnings: readonly string[]) => warnings.filter((warning) => warning.startsWith('ReadersResolver.'));
const onceFor = (method: string) =>
  expect.stringMatching(
    new RegExp(`^ReadersResolver\\.${method}: runs uncached wherever its GraphQL context holds no HTTP request.*shared: true`),
  );

describe('a resolver whose GraphQL context holds no HTTP request (a context function that replaces req)', () => {
  const logger = capturedLogger();
  const clock = useStoppedClock();
  let app: INestApplication;
  beforeAll(async () => {
    for (const name of Object.keys(runs)) delete runs[name];
    // Keeps who is asking and drops the request: the credential headers are no longer there to read.
    const context = ({ req }: { req: { headers: Record<string, string | undefined> } }) => ({
      req: { user: req.headers.authorization ?? 'anonymous' },
    });
    app = await start({ context }, logger, 'no-request-http:');
  });
  afterAll(() => app.close());

  const data = (query: string, headers?: Record<string, string>) => graphqlData(app)(query, headers);

  it('answers every user their own answer, uncached, and warns once per resolver however long it goes on', async () => {
    clock.stop();
    for (let round = 1; round <= 3; round++) {
      expect(await data('{ whoami { name run } }', { Authorization: 'Bearer ada' })).toEqual({
        whoami: { name: 'Bearer ada', run: 2 * round - 1 },
      });
      expect(await data('{ whoami { name run } }', { Authorization: 'Bearer bob' })).toEqual({
        whoami: { name: 'Bearer bob', run: 2 * round },
      });
      expect(await data('{ reader { run } }')).toEqual({ reader: { run: round } });
      // Past any interval a repeated warning would wait for.
      clock.advance(61_000);
    }
    expect(resolverWarnings(logger.warnings)).toEqual([onceFor('whoami'), onceFor('reader')]);
  });

  it('caches a resolver marked shared: true, with no warning', async () => {
    await data('{ librarian { run } }', { Authorization: 'Bearer ada' });
    expect(await data('{ librarian { run } }', { Authorization: 'Bearer bob' })).toEqual({ librarian: { run: 1 } });
    expect(resolverWarnings(logger.warnings).filter((warning) => warning.includes('librarian'))).toEqual([]);
  });
});

describe('a query over graphql-ws, whose context is the connection, not an HTTP request', () => {
  const logger = capturedLogger();
  const clock = useStoppedClock();
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    for (const name of Object.keys(runs)) delete runs[name];
    app = await start({ subscriptions: { 'graphql-ws': true } }, logger, 'no-request-ws:');
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace(/^http/, 'ws') + '/graphql';
  });
  afterAll(() => app.close());

  /** A query's data over a graphql-ws connection whose params say who is asking. */
  const overSocket = async (query: string, user: string) => {
    const socket = createClient({ url, webSocketImpl: WebSocket, connectionParams: { user }, lazy: true });
    try {
      return await new Promise<unknown>((resolve, reject) => {
        let data: unknown;
        socket.subscribe({ query }, { next: (result) => (data = result.data), error: reject, complete: () => resolve(data) });
      });
    } finally {
      await socket.dispose();
    }
  };

  it("never serves one connection's answer to another, and warns once per resolver", async () => {
    clock.stop();
    for (let round = 1; round <= 2; round++) {
      expect(await overSocket('{ whoami { name run } }', 'ada')).toEqual({ whoami: { name: 'ada', run: 2 * round - 1 } });
      expect(await overSocket('{ whoami { name run } }', 'bob')).toEqual({ whoami: { name: 'bob', run: 2 * round } });
      clock.advance(61_000);
    }
    expect(resolverWarnings(logger.warnings)).toEqual([onceFor('whoami')]);
  });
});
