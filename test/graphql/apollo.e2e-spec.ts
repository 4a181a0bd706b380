import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { type INestApplication, Injectable, Scope } from '@nestjs/common';
import { Args, Context, Field, GraphQLModule, ID, Int, Mutation, ObjectType, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import { delay, of } from 'rxjs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheEvict, Cacheable, DynamoCacheModule } from '../../src/index.js';
import { useCacheTable } from '../support/dynamo.js';

const { client, tableName } = useCacheTable('graphql_apollo');
const root = { tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl' };

/** Counts resolver runs, so that a test can tell a cached answer from a computed one. */
const runs: Record<string, number> = {};
const ran = (name: string) => (runs[name] = (runs[name] ?? 0) + 1);

interface HttpRequest {
  readonly headers: Record<string, string | undefined>;
}

@ObjectType()
class Book {
  @Field(() => ID) id!: string;
  @Field(() => String) title!: string;
  @Field(() => Int) run!: number;
}

@ObjectType()
class Reader {
  @Field(() => String) name!: string;
  @Field(() => Int) run!: number;
}

class Shelf {
  constructor(readonly id: string) {}
}

const titles = new Map<string, string>([['1', 'Dune']]);

@Resolver(() => Book)
class BooksResolver {
  @Query(() => Book)
  @Cacheable({ ttl: 60_000, tags: (_book, _parent, args: { id: string }) => [`book:${args.id}`] })
  book(@Args('id', { type: () => ID }) id: string): Book {
    return { id, title: titles.get(id) ?? `Book ${id}`, run: ran(`book:${id}`) };
  }

  @Query(() => Book)
  @Cacheable({ ttl: 60_000 })
  async slowBook(@Args('id', { type: () => ID }) id: string): Promise<Book> {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { id, title: 'slow', run: ran(`slow:${id}`) };
  }

  @Query(() => Book)
  @Cacheable({ ttl: 60_000 })
  observedBook(@Args('id', { type: () => ID }) id: string) {
    return of({ id, title: 'observed', run: ran(`observed:${id}`) }).pipe(delay(5));
  }

  @Query(() => Book)
  @Cacheable({ ttl: 60_000 })
  async flakyBook(@Args('id', { type: () => ID }) id: string): Promise<Book> {
    if (ran(`flaky:${id}`) === 1) throw new Error('the catalogue is down');
    return { id, title: 'flaky', run: runs[`flaky:${id}`]! };
  }

  @Query(() => Book)
  @Cacheable({ ttl: 60_000 })
  shelfBook(): Book {
    ran('shelf');
    return Object.assign(new Book(), { id: 'shelf', title: 'a class instance', run: runs.shelf! });
  }

  @Mutation(() => Book)
  @CacheEvict({ tags: (_parent, args: { id: string }) => [`book:${args.id}`] })
  renameBook(@Args('id', { type: () => ID }) id: string, @Args('title') title: string): Book {
    titles.set(id, title);
    return { id, title, run: ran(`rename:${id}`) };
  }

  @Mutation(() => Book)
  @Cacheable({ ttl: 60_000 })
  borrowBook(@Args('id', { type: () => ID }) id: string): Book {
    return { id, title: 'borrowed', run: ran(`borrow:${id}`) };
  }

  @ResolveField(() => String)
  @Cacheable({ ttl: 60_000 })
  blurb(@Parent() book: Book): string {
    return `${book.title}, blurb ${ran(`blurb:${book.id}`)}`;
  }
}

@Resolver(() => Reader)
class ReadersResolver {
  @Query(() => Reader)
  @Cacheable({ ttl: 60_000, vary: ['authorization'] })
  me(@Context('req') req: HttpRequest): Reader {
    return { name: req.headers.authorization ?? 'anonymous', run: ran('me') };
  }

  @Query(() => Reader)
  @Cacheable({ ttl: 60_000 })
  whoever(@Context('req') req: HttpRequest): Reader {
    return { name: req.headers.authorization ?? req.headers.cookie ?? 'anonymous', run: ran('whoever') };
  }

  @Query(() => Reader)
  @Cacheable({ ttl: 60_000, shared: true })
  librarian(): Reader {
    return { name: 'the librarian', run: ran('librarian') };
  }

  @Query(() => Reader)
  @Cacheable({ ttl: 60_000, key: (_parent, args: { shelf: string }) => `shelf:${args.shelf}` })
  shelfReader(@Args('shelf') shelf: string): Reader {
    void new Shelf(shelf);
    return { name: shelf, run: ran(`shelfReader:${shelf}`) };
  }
}

const instances = new Set<object>();

/** Built by Nest for every request: no start-up scan reaches its instances, the interceptor still does. */
@Resolver(() => Reader)
@Injectable({ scope: Scope.REQUEST })
class RequestScopedResolver {
  @Query(() => Reader)
  @Cacheable({ ttl: 60_000 })
  perRequest(): Reader {
    instances.add(this);
    return { name: 'per request', run: ran('perRequest') };
  }

  @Query(() => Int)
  uncached(): number {
    instances.add(this);
    return instances.size;
  }
}

const warnings: string[] = [];
const logger = { log() {}, error() {}, debug() {}, verbose() {}, warn: (message: unknown) => void warnings.push(String(message)) };

describe('@Cacheable and @CacheEvict on GraphQL resolvers (Apollo, Express, code first)', () => {
  let app: INestApplication;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: 'apollo:' }),
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          autoSchemaFile: true,
          // Nest applies no interceptor to a field resolver unless told to: see the README.
          fieldResolverEnhancers: ['interceptors'],
        }),
      ],
      providers: [BooksResolver, ReadersResolver, RequestScopedResolver],
    }).compile();
    app = moduleRef.createNestApplication({ logger });
    await app.init();
  });
  afterAll(() => app.close());

  const graphql = (query: string, headers: Record<string, string> = {}) =>
    request(app.getHttpServer()).post('/graphql').set(headers).send({ query }).expect(200);
  const data = async (query: string, headers?: Record<string, string>) => {
    const { body } = await graphql(query, headers);
    expect(body.errors).toBeUndefined();
    return body.data;
  };

  it('answers a query from the cache: the resolver runs once for one field and arguments', async () => {
    expect(await data('{ book(id: "1") { id title run } }')).toEqual({ book: { id: '1', title: 'Dune', run: 1 } });
    expect(await data('{ book(id: "1") { id title run } }')).toEqual({ book: { id: '1', title: 'Dune', run: 1 } });
    expect(await data('query { again: book(id: "1") { run } }')).toEqual({ again: { run: 1 } });
    expect(runs['book:1']).toBe(1);
    expect(await data('{ book(id: "2") { run } }')).toEqual({ book: { run: 1 } });
    expect(runs['book:2']).toBe(1);
  });

  it('runs a cold query once for 20 concurrent requests', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => data('{ slowBook(id: "7") { run } }')));
    expect(answers.every((answer) => answer.slowBook.run === 1)).toBe(true);
    expect(runs['slow:7']).toBe(1);
  });

  it('caches what a resolver returns as an Observable', async () => {
    await data('{ observedBook(id: "3") { title run } }');
    expect(await data('{ observedBook(id: "3") { title run } }')).toEqual({ observedBook: { title: 'observed', run: 1 } });
    expect(runs['observed:3']).toBe(1);
  });

  it('never caches an error: the next query runs the resolver again', async () => {
    const failed = await graphql('{ flakyBook(id: "9") { run } }');
    expect(failed.body.errors[0].message).toBe('the catalogue is down');
    expect(await data('{ flakyBook(id: "9") { run } }')).toEqual({ flakyBook: { run: 2 } });
    expect(await data('{ flakyBook(id: "9") { run } }')).toEqual({ flakyBook: { run: 2 } });
  });

  it('evicts after a mutation with @CacheEvict, and never caches a mutation', async () => {
    await data('{ book(id: "1") { title } }');
    expect(await data('mutation { renameBook(id: "1", title: "Dune Messiah") { title } }')).toEqual({
      renameBook: { title: 'Dune Messiah' },
    });
    expect(await data('{ book(id: "1") { title run } }')).toEqual({ book: { title: 'Dune Messiah', run: 2 } });
    await data('mutation { borrowBook(id: "1") { run } }');
    expect(await data('mutation { borrowBook(id: "1") { run } }')).toEqual({ borrowBook: { run: 2 } });
  });

  it('caches a field resolver per parent', async () => {
    await data('{ book(id: "4") { blurb } }');
    expect(await data('{ book(id: "4") { blurb } }')).toEqual({ book: { blurb: 'Book 4, blurb 1' } });
    expect(await data('{ book(id: "5") { blurb } }')).toEqual({ book: { blurb: 'Book 5, blurb 1' } });
    expect([runs['blurb:4'], runs['blurb:5']]).toEqual([1, 1]);
  });

  it("never serves one user another's answer: vary keys per user, and a resolver without vary is bypassed", async () => {
    const ada = { Authorization: 'Bearer ada' };
    const bob = { Authorization: 'Bearer bob' };
    expect((await data('{ me { name } }', ada)).me.name).toBe('Bearer ada');
    expect((await data('{ me { name } }', bob)).me.name).toBe('Bearer bob');
    expect(await data('{ me { name run } }', ada)).toEqual({ me: { name: 'Bearer ada', run: 1 } });
    expect(await data('{ me { name run } }', bob)).toEqual({ me: { name: 'Bearer bob', run: 2 } });
    expect(runs.me).toBe(2);

    // Anonymous: stored. With credentials and no vary: the resolver answers, and stores nothing.
    expect(await data('{ whoever { name run } }')).toEqual({ whoever: { name: 'anonymous', run: 1 } });
    expect(await data('{ whoever { name } }', ada)).toEqual({ whoever: { name: 'Bearer ada' } });
    expect(await data('{ whoever { name } }', bob)).toEqual({ whoever: { name: 'Bearer bob' } });
    expect(await data('{ whoever { name } }', { Cookie: 'sid=carol' })).toEqual({ whoever: { name: 'sid=carol' } });
    expect(await data('{ whoever { name run } }')).toEqual({ whoever: { name: 'anonymous', run: 1 } });
    expect(runs.whoever).toBe(4);

    // Concurrent, cold, two users: each gets their own answer every time.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) => data('{ me2: me { name } }', index % 2 ? { Authorization: 'Bearer cy' } : {})),
    );
    for (const [index, answer] of answers.entries()) expect(answer.me2.name).toBe(index % 2 ? 'Bearer cy' : 'anonymous');
  });

  it('shares one entry whatever the credentials with shared: true, and keys by a key function of the arguments', async () => {
    await data('{ librarian { run } }', { Authorization: 'Bearer ada' });
    expect(await data('{ librarian { run } }', { Authorization: 'Bearer bob' })).toEqual({ librarian: { run: 1 } });
    await data('{ shelfReader(shelf: "a") { run } }');
    expect(await data('{ shelfReader(shelf: "a") { name run } }')).toEqual({ shelfReader: { name: 'a', run: 1 } });
  });

  it('caches a request-scoped resolver too, with no warning at start-up', async () => {
    await data('{ perRequest { run } }');
    expect(await data('{ perRequest { run } }')).toEqual({ perRequest: { run: 1 } });
    // Request-scoped indeed: each query that reaches a resolver builds one.
    await data('{ uncached }');
    await data('{ uncached }');
    expect(instances.size).toBe(3);
    expect(warnings.filter((warning) => warning.includes('RequestScopedResolver'))).toEqual([]);
  });

  it('answers a class instance without caching it, with a warning naming the resolver', async () => {
    await data('{ shelfBook { run } }');
    expect(await data('{ shelfBook { run } }')).toEqual({ shelfBook: { run: 2 } });
    expect(warnings.some((warning) => warning.startsWith('BooksResolver.shelfBook: ') && warning.includes('Book instance'))).toBe(true);
  });
});
