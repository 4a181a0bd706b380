import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { lastValueFrom, of } from 'rxjs';
import { describe } from '../burst-warning.js';
import { checkedKey } from '../cache-calls.js';
import { type CallKey, type ContextCalls, unstorableValue } from '../contexts/context-calls.js';
import { digestOf, encodedValue } from '../contexts/default-key.js';
import { bodyForHit } from '../http/cached-response.js';
import { personalRequestReason } from '../http/http-cache-key.js';
import type { CacheableOptions, CacheableRequest } from '../interfaces/cacheable-options.js';

type Headers = CacheableRequest['headers'];

/** What a resolver reads of graphql-js's `info`: this package does not import graphql. */
interface ResolveInfo {
  readonly fieldName: string;
  readonly parentType: { readonly name: string };
  readonly operation: { readonly operation: string };
  readonly path: { readonly prev?: unknown };
}

/**
 * The GraphQL context of either driver: Apollo's and Mercurius's Nest drivers both put the HTTP
 * request in `req` (Express's or Fastify's); Mercurius also keeps it in `reply.request`.
 */
interface GraphQLContext {
  readonly req?: { readonly headers?: Headers };
  readonly reply?: { readonly request?: { readonly headers?: Headers } };
}

/** Why a query's field in a context without an HTTP request runs uncached, and what to do about it. */
const NO_REQUEST =
  'runs uncached wherever its GraphQL context holds no HTTP request (`req`, with headers) to say who is asking, ' +
  'as over graphql-ws or with a context function that replaces `req`. Give @Cacheable `shared: true` if its ' +
  'answer is the same for everyone; else keep in the context, as `req`, the HTTP request whose headers say who ' +
  'is asking. (Said once.)';

/**
 * GraphQL resolvers (`context.getType() === 'graphql'`): a query's fields are cached, root fields
 * and field resolvers alike; a mutation's and a subscription's never are. Per user by the routes'
 * rule, on the headers of the request in the GraphQL context.
 */
export const resolverCalls: ContextCalls = {
  keyOf(options: CacheableOptions, context: ExecutionContext): CallKey {
    const [parent, args, graphqlContext, info] = context.getArgs<[unknown, unknown, GraphQLContext | undefined, ResolveInfo]>();
    // A mutation's answer must show what it changed; a field inside it as well.
    if (info?.operation?.operation !== 'query') return { bypass: 'not in a query', warn: 'never' };
    const headers = graphqlContext?.req?.headers ?? graphqlContext?.reply?.request?.headers;
    // No headers, no way to tell users apart: the resolver answers every call, as for a request with a
    // credential header. Said once per resolver: it is how the app is set up, not how one call went.
    if (headers === undefined && options.shared !== true) return { bypass: NO_REQUEST, warn: 'once' };
    if (headers !== undefined && personalRequestReason(headers, options) !== undefined) return { bypass: 'per user', warn: 'never' };
    try {
      return { key: resolverKey(options, parent, args, graphqlContext, info), headers: headers ?? {} };
    } catch (error) {
      return { bypass: `its key could not be made: ${describe(error)}`, warn: 'per burst' };
    }
  },
  // A resolver's Observable counts by its last value, as Nest answers GraphQL with it.
  run: (next: CallHandler) => lastValueFrom(next.handle(), { defaultValue: undefined }),
  // As a route's body: plain data only (a class instance's getters and methods, which GraphQL may read, would not come back).
  unstorable: unstorableValue,
  answer: (value: unknown) => of(bodyForHit(value, false)),
};

/**
 * The key given, or `graphql <Type>.<field>(<arguments>)`: the arguments written as provider
 * methods' are (equal data, equal key). A field resolver's answer depends on its parent too: a
 * digest of the parent's data joins the key (` parent:<digest>`), so that two books never share a
 * `blurb`; a parent that holds a class instance has no such digest, and its field needs a key.
 */
function resolverKey(
  options: CacheableOptions,
  parent: unknown,
  args: unknown,
  context: unknown,
  info: ResolveInfo,
): string | Promise<string> {
  if (typeof options.key === 'string') return options.key;
  if (typeof options.key === 'function') return checkedKey(options.key(parent, args, context, info));
  const field = `graphql ${info.parentType.name}.${info.fieldName}(${encodedValue(args, 'its arguments')})`;
  // A root field's parent is the server's root value, the same for every query.
  if (info.path.prev === undefined) return field;
  return `${field} parent:${digestOf(encodedValue(parent, 'its parent'))}`;
}
