import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import type { INestApplication } from '@nestjs/common';
import { Args, Context, GraphQLModule, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheEvict, Cacheable, DynamoCacheModule } from '../../src/index.js';
import { useCacheTable } from '../support/dynamo.js';
import { graphqlData } from '../support/nest-apps.js';

const { client, tableName } = useCacheTable('graphql_schema_first');
const root = { tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl' };

const typeDefs = /* GraphQL */ `
  type Movie {
    id: ID!
    title: String!
    run: Int!
    review: String!
  }
  type Query {
    movie(id: ID!): Movie!
    watchlist: [String!]!
  }
  type Mutation {
    retitle(id: ID!, title: String!): Movie!
  }
`;

/** One set of resolvers per driver, each counting its own runs. */
function moviesResolver(runs: Record<string, number>) {
  const ran = (name: string) => (runs[name] = (runs[name] ?? 0) + 1);
  const titles = new Map<string, string>();

  @Resolver('Movie')
  class MoviesResolver {
    @Query('movie')
    @Cacheable({ ttl: 60_000, tags: (_movie, _parent, args: { id: string }) => [`movie:${args.id}`] })
    movie(@Args('id') id: string) {
      return { id, title: titles.get(id) ?? `movie ${id}`, run: ran(`movie:${id}`) };
    }

    @Query('watchlist')
    @Cacheable({ ttl: 60_000 })
    watchlist(@Context('req') req: { headers: Record<string, string | undefined> }) {
      ran('watchlist');
      return [req.headers.authorization ?? 'anonymous'];
    }

    @Mutation('retitle')
    @CacheEvict({ tags: (_parent, args: { id: string }) => [`movie:${args.id}`] })
    retitle(@Args('id') id: string, @Args('title') title: string) {
      titles.set(id, title);
      return { id, title, run: ran(`retitle:${id}`) };
    }

    @ResolveField('review')
    @Cacheable({ ttl: 60_000 })
    review(@Parent() movie: { id: string; title: string }) {
      return `${movie.title}: review ${ran(`review:${movie.id}`)}`;
    }
  }
  return MoviesResolver;
}

const drivers = [
  {
    name: 'Apollo, Express',
    graphql: () => GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, typeDefs, fieldResolverEnhancers: ['interceptors'] }),
    start: async (app: INestApplication) => void (await app.init()),
    create: (moduleRef: { createNestApplication(options: object): INestApplication }) => moduleRef.createNestApplication({ logger: false }),
  },
  {
    name: 'Mercurius, Fastify',
    graphql: () =>
      GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, typeDefs, fieldResolverEnhancers: ['interceptors'] }),
    start: async (app: INestApplication) => {
      await app.init();
      await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    },
    create: (moduleRef: { createNestApplication(adapter: FastifyAdapter, options: object): INestApplication }) =>
      moduleRef.createNestApplication(new FastifyAdapter(), { logger: false }),
  },
];

describe.each(drivers)('@Cacheable on schema-first resolvers ($name)', ({ name, graphql, start, create }) => {
  const runs: Record<string, number> = {};
  let app: INestApplication;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: `${name.split(',')[0]}:` }), graphql()],
      providers: [moviesResolver(runs)],
    }).compile();
    app = create(moduleRef as never);
    await start(app);
  });
  afterAll(() => app.close());

  const data = (query: string, headers?: Record<string, string>) => graphqlData(app)(query, headers);

  it('answers a query and its field resolver from the cache; a mutation evicts the query by tag, and a new parent makes a new field', async () => {
    expect(await data('{ movie(id: "1") { title run review } }')).toEqual({
      movie: { title: 'movie 1', run: 1, review: 'movie 1: review 1' },
    });
    expect(await data('{ movie(id: "1") { title run review } }')).toEqual({
      movie: { title: 'movie 1', run: 1, review: 'movie 1: review 1' },
    });
    await data('mutation { retitle(id: "1", title: "Alien") { title } }');
    expect(await data('{ movie(id: "1") { title run review } }')).toEqual({ movie: { title: 'Alien', run: 2, review: 'Alien: review 2' } });
    // The field is keyed by its parent's data: the retitled movie is a parent of its own.
    expect(runs['review:1']).toBe(2);
  });

  it('bypasses a request with credentials, and serves the anonymous entry only to anonymous requests', async () => {
    expect(await data('{ watchlist }')).toEqual({ watchlist: ['anonymous'] });
    expect(await data('{ watchlist }', { Authorization: 'Bearer ada' })).toEqual({ watchlist: ['Bearer ada'] });
    expect(await data('{ watchlist }', { Cookie: 'sid=bob' })).toEqual({ watchlist: ['anonymous'] });
    expect(await data('{ watchlist }')).toEqual({ watchlist: ['anonymous'] });
    expect(runs.watchlist).toBe(3);
  });
});
