import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import type { INestApplication } from '@nestjs/common';
import { Field, GraphQLModule, Int, Mutation, ObjectType, Parent, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cacheable, DynamoCacheModule } from '../../src/index.js';
import { useCacheTable } from '../support/dynamo.js';

const { client, tableName } = useCacheTable('graphql_warnings');
const root = { tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl' };

let blurbs = 0;

@ObjectType()
class Song {
  @Field(() => String) title!: string;
}

@Resolver(() => Song)
class SongsResolver {
  @Query(() => Song)
  song(): Song {
    return { title: 'Blue' };
  }

  @ResolveField(() => Int)
  @Cacheable({ ttl: 60_000 })
  blurb(@Parent() _song: Song): number {
    return ++blurbs;
  }

  @Mutation(() => Song)
  @Cacheable({ ttl: 60_000 })
  play(): Song {
    return { title: 'played' };
  }

  @Subscription(() => Song)
  @Cacheable({ ttl: 60_000 })
  released() {
    return { [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }) };
  }
}

describe('start-up warnings for resolvers that @Cacheable cannot cache', () => {
  const warnings: string[] = [];
  let app: INestApplication;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        DynamoCacheModule.forRoot({ ...root, logger: { warn: (message: string) => void warnings.push(message) } }),
        // No fieldResolverEnhancers: Nest calls field resolvers without interceptors.
        GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true }),
      ],
      providers: [SongsResolver],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(() => app.close());

  it('names a field resolver that GraphQL calls without interceptors, a mutation and a subscription, once each', async () => {
    expect(warnings.filter((warning) => warning.startsWith('SongsResolver.'))).toEqual([
      "SongsResolver.blurb: GraphQLModule applies no interceptor to a field resolver unless its options say fieldResolverEnhancers: ['interceptors'], so this field runs uncached. Add that option to cache it.",
      'SongsResolver.play: a GraphQL mutation is never cached: @Cacheable is ignored. Mark it @CacheEvict to evict what it changes.',
      'SongsResolver.released: a GraphQL subscription is never cached; it runs as it is.',
    ]);
    const query = () => request(app.getHttpServer()).post('/graphql').send({ query: '{ song { blurb } }' }).expect(200);
    await query();
    expect((await query()).body.data).toEqual({ song: { blurb: 2 } });
  });
});
