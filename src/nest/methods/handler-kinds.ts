import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { isEventHandler, isMessageHandler } from '../rpc/pattern-metadata.js';

/**
 * What calls a method that `@Cacheable()` or `@CacheEvict()` marks, told by the metadata Nest's
 * packages leave on it: a route, a GraphQL resolver, a message or event handler, a WebSocket
 * handler, or none of them (a provider's method, which the explorer wraps).
 */
export type HandlerKind = 'route' | 'query' | 'mutation' | 'subscription' | 'field' | 'message' | 'event' | 'websocket' | 'method';

// Read by their literal keys, so that this package loads without the packages that write them:
// RESOLVER_TYPE_METADATA and RESOLVER_PROPERTY_METADATA of @nestjs/graphql's graphql.constants
// (the type is 'Query', 'Mutation' or 'Subscription'; a property is a field resolver), and
// MESSAGE_METADATA of @nestjs/websockets/constants (@SubscribeMessage).
const RESOLVER_TYPE_METADATA = 'graphql:resolver_type';
const RESOLVER_PROPERTY_METADATA = 'graphql:resolve_property';
const WEBSOCKET_MESSAGE_METADATA = 'message';

const RESOLVER_KINDS: Readonly<Record<string, HandlerKind>> = { Query: 'query', Mutation: 'mutation', Subscription: 'subscription' };

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function handlerKind(method: Function): HandlerKind {
  if (Reflect.getMetadata(PATH_METADATA, method) !== undefined && Reflect.getMetadata(METHOD_METADATA, method) !== undefined)
    return 'route';
  if (Reflect.getMetadata(RESOLVER_PROPERTY_METADATA, method) === true) return 'field';
  const resolverType = Reflect.getMetadata(RESOLVER_TYPE_METADATA, method) as string | undefined;
  if (resolverType !== undefined) return RESOLVER_KINDS[resolverType] ?? 'field';
  if (isMessageHandler(method)) return 'message';
  if (isEventHandler(method)) return 'event';
  if (Reflect.getMetadata(WEBSOCKET_MESSAGE_METADATA, method) !== undefined) return 'websocket';
  return 'method';
}

/**
 * Why the decorators on a method of this kind do nothing, if they do nothing: said once at
 * start-up, naming the class and method, rather than leave a cache that silently never caches.
 * `cacheable` and `evict`: the method's own decorators (a class's @Cacheable applies where it can).
 * `onController`: a controller's method that is no route nor message handler is called by nobody
 * through Nest's interceptors.
 */
export function notCachedReason(
  kind: HandlerKind,
  marks: { readonly cacheable: boolean; readonly evict: boolean; readonly onController: boolean },
): string | undefined {
  switch (kind) {
    case 'websocket':
      return 'a WebSocket handler (@SubscribeMessage) is not cached by @Cacheable or evicted by @CacheEvict; it runs as it is. Inject the cache and call getOrSet in it.';
    case 'subscription':
      return 'a GraphQL subscription is never cached; it runs as it is.';
    case 'mutation':
      return marks.cacheable
        ? 'a GraphQL mutation is never cached: @Cacheable is ignored. Mark it @CacheEvict to evict what it changes.'
        : undefined;
    case 'event':
      return marks.cacheable
        ? 'an @EventPattern handler is never cached (an event has no answer, and each must reach its handler): @Cacheable is ignored; @CacheEvict applies.'
        : undefined;
    case 'method':
      return marks.onController && (marks.cacheable || marks.evict)
        ? "it is neither a route nor a message handler, so Nest's interceptors never see its calls and @Cacheable does nothing. Move it into a provider."
        : undefined;
    default:
      return undefined;
  }
}
