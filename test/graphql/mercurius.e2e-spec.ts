import { Args, Context, Field, GraphQLModule, Int, Mutation, ObjectType, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheEvict, Cacheable, DynamoCacheModule } from '../../src/index.js';
import { useCacheTable } from '../support/dynamo.js';

const { client, tableName } = useCacheTable('graphql_mercurius');
const root = { tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl' };

/** Counts resolver runs, so that a test can tell a cached answer from a computed one. */
const runs: Record<string, number> = {};
const ran = (name: string) => (runs[name] = (runs[name] ?? 0) + 1);
const names = new Map<string, string>([['1', 'Ada']]);

@ObjectType()
class Author {
  @Field(() => String) id!: string;
  @Field(() => String) name!: string;
  @Field(() => Int) run!: number;
}

@Resolver(() => Author)
class AuthorsResolver {
  @Query(() => Author)
  @Cacheable({ ttl: 60_000 })
  author(@Args('id') id: string): Author {
    return { id, name: names.get(id) ?? `author ${id}`, run: ran(`author:${id}`) };
  }

  @Query(() => Author)
  @Cacheable({ ttl: 60_000, vary: ['authorization'] })
  viewer(@Context('req') req: { headers: Record<string, string | undefined> }): Author {
    return { id: 'viewer', name: req.headers.authorization ?? 'anonymous', run: ran('viewer') };
  }

  @Query(() => Author)
  @Cacheable({ ttl: 60_000 })
  anyone(@Context('req') req: { headers: Record<string, string | undefined> }): Author {
    return { id: 'anyone', name: req.headers.authorization ?? 'anonymous', run: ran('anyone') };
  }

  @Query(() => Author)
  @Cacheable({ ttl: 60_000 })
  async unreliable(): Promise<Author> {
    if (ran('unreliable') === 1) throw new Error('the archive is down');
    return { id: 'u', name: 'unreliable', run: runs.unreliable! };
  }

  @Mutation(() => Author)
  @CacheEvict({ keys: (_parent, args: { id: string }) => [`graphql Query.author({"id":${JSON.stringify(args.id)}})`] })
  renameAuthor(@Args('id') id: string, @Args('name') name: string): Author {
    names.set(id, name);
    return { id, name, run: ran(`rename:${id}`) };
  }

  @ResolveField(() => Int)
  @Cacheable({ ttl: 60_000 })
  books(@Parent() author: Author): number {
    ran(`books:${author.id}`);
    return author.name.length;
  }
}

describe('@Cacheable and @CacheEvict on GraphQL resolvers (Mercurius, Fastify, code first)', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: 'mercurius:' }),
        GraphQLModule.forRoot<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          autoSchemaFile: true,
          fieldResolverEnhancers: ['interceptors'],
        }),
      ],
      providers: [AuthorsResolver],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  const data = async (query: string, headers: Record<string, string> = {}) => {
    const response = await app.inject({ method: 'POST', url: '/graphql', payload: { query }, headers });
    const body = response.json();
    expect(body.errors).toBeUndefined();
    return body.data;
  };

  it('answers a query from the cache, and a field resolver per parent', async () => {
    expect(await data('{ author(id: "1") { name run books } }')).toEqual({ author: { name: 'Ada', run: 1, books: 3 } });
    expect(await data('{ author(id: "1") { name run books } }')).toEqual({ author: { name: 'Ada', run: 1, books: 3 } });
    expect(runs['author:1']).toBe(1);
    expect(runs['books:1']).toBe(1);
  });

  it('evicts the default key of a query after a mutation with @CacheEvict', async () => {
    await data('mutation { renameAuthor(id: "1", name: "Grace") { name } }');
    expect(await data('{ author(id: "1") { name run books } }')).toEqual({ author: { name: 'Grace', run: 2, books: 5 } });
  });

  it("never serves one user another's answer: vary keys per user, and a resolver without vary is bypassed", async () => {
    expect(await data('{ viewer { name } }', { authorization: 'Bearer ada' })).toEqual({ viewer: { name: 'Bearer ada' } });
    expect(await data('{ viewer { name } }', { authorization: 'Bearer bob' })).toEqual({ viewer: { name: 'Bearer bob' } });
    expect(await data('{ viewer { name run } }', { authorization: 'Bearer ada' })).toEqual({ viewer: { name: 'Bearer ada', run: 1 } });
    expect(runs.viewer).toBe(2);

    expect(await data('{ anyone { name run } }')).toEqual({ anyone: { name: 'anonymous', run: 1 } });
    expect(await data('{ anyone { name } }', { authorization: 'Bearer ada' })).toEqual({ anyone: { name: 'Bearer ada' } });
    expect(await data('{ anyone { name } }', { authorization: 'Bearer bob' })).toEqual({ anyone: { name: 'Bearer bob' } });
    expect(runs.anyone).toBe(3);
  });

  it('never caches an error', async () => {
    const failed = await app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ unreliable { run } }' } });
    expect(failed.json().errors[0].message).toBe('the archive is down');
    expect(await data('{ unreliable { run } }')).toEqual({ unreliable: { run: 2 } });
    expect(await data('{ unreliable { run } }')).toEqual({ unreliable: { run: 2 } });
  });
});
