import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { DynamoCacheRegistry } from '../../cache/cache-registry.js';
import { CacheRegistrationError } from '../../cache/errors.js';
import { BurstWarning } from '../burst-warning.js';
import { cachedMethod, evictingMethod, isWrapped } from './cached-method.js';
import { CACHE_EVICT_METADATA, CACHEABLE_METADATA } from '../dynamo-cache.constants.js';
import { routePlan } from '../http/route-plan.js';
import { FIELD_RESOLVERS_NOT_INTERCEPTED, fieldResolversIntercepted } from '../graphql/field-resolver-enhancers.js';
import { type HandlerKind, handlerKind, notCachedReason } from './handler-kinds.js';
import type { CacheableOptions, CacheEvictOptions } from '../interfaces/cacheable-options.js';

/**
 * At start-up, wraps every provider method marked `@Cacheable()` or `@CacheEvict()` (as bullmq's
 * explorer finds its processors), and checks that every cache a route or method names is registered,
 * so that a typo fails the deploy rather than a request. GraphQL resolvers and message handlers are
 * left to DynamoCacheInterceptor, since Nest calls them through it and never through the provider's
 * method; a marked method that nothing caches (a WebSocket handler, an event handler) is warned of once.
 */
@Injectable()
export class CachedMethodsExplorer implements OnModuleInit {
  // The module's `logger` option, as for the store's own warnings.
  private readonly logger = { warn: (message: string) => this.registry.default.forMethods().logger.warn(message) };
  private readonly warning = new BurstWarning(this.logger);
  /** Which class each default key prefix (cache, class and method names) belongs to. */
  private readonly defaultKeyOwners = new Map<string, unknown>();
  /** Handlers warned of at start-up: a provider listed in several modules is warned of once. */
  private readonly warned = new WeakSet<object>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: DynamoCacheRegistry,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getControllers()) this.checkRoutes(wrapper);
    for (const wrapper of this.discovery.getProviders()) this.wrapMethods(wrapper);
  }

  private checkRoutes(wrapper: InstanceWrapper): void {
    // Nest's own type for a class and its methods, as ExecutionContext hands them out.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    const controller = wrapper.metatype as Function | null;
    if (typeof controller !== 'function') return;
    for (const name of this.scanner.getAllMethodNames(controller.prototype)) {
      const handler = controller.prototype[name];
      const plan = routePlan(controller, handler);
      if (plan === null) continue;
      const kind = handlerKind(handler);
      if (kind !== 'route' && !this.isCached(kind, plan.where, handler, 'controller')) continue;
      this.cacheFor(plan.where, plan.evict?.cache ?? plan.cacheName);
    }
  }

  private wrapMethods(wrapper: InstanceWrapper): void {
    const instance = wrapper.instance as Record<string, unknown> | undefined;
    if (instance === null || typeof instance !== 'object' || wrapper.metatype === null) return;
    const prototype = Object.getPrototypeOf(instance) as object;
    const onClass = Reflect.getMetadata(CACHEABLE_METADATA, prototype.constructor) as CacheableOptions | undefined;
    for (const name of this.scanner.getAllMethodNames(prototype)) {
      const method = instance[name];
      if (typeof method !== 'function' || isWrapped(method)) continue;
      const cacheable = Reflect.getMetadata(CACHEABLE_METADATA, method) as CacheableOptions | undefined;
      const evict = Reflect.getMetadata(CACHE_EVICT_METADATA, method) as CacheEvictOptions | undefined;
      if (cacheable === undefined && evict === undefined) continue;
      const where = `${prototype.constructor.name}.${name}`;
      const kind = handlerKind(method);
      if (kind !== 'method') {
        // A resolver: Nest calls it through DynamoCacheInterceptor, which reads its options; its method stays as it is.
        if (this.isCached(kind, where, method, 'provider')) this.cacheFor(where, evict?.cache ?? cacheable?.cache ?? onClass?.cache);
        continue;
      }
      if (!wrapper.isDependencyTreeStatic()) {
        // Nest builds such a provider anew for every request, after start-up, where no explorer can reach it.
        this.logger.warn(
          `${where}: @Cacheable/@CacheEvict are not applied to a request-scoped provider; call the cache from it directly, or move the method into a singleton provider.`,
        );
        continue;
      }
      const site = { where, warning: this.warning };
      if (evict !== undefined) {
        instance[name] = evictingMethod(method as never, evict, {
          ...site,
          cache: this.cacheFor(where, evict.cache ?? cacheable?.cache ?? onClass?.cache),
        });
        continue;
      }
      const options = { ...onClass, ...cacheable };
      const cache = this.cacheFor(where, options.cache);
      if (options.key === undefined) this.claimDefaultKeys(cache.name, where, prototype.constructor);
      instance[name] = cachedMethod(method as never, options, { ...site, cache });
    }
  }

  /** Whether the interceptor caches (or evicts for) a handler of this kind; when it does not, says so once. */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  private isCached(kind: HandlerKind, where: string, handler: Function, owner: 'controller' | 'provider'): boolean {
    const cacheable = Reflect.getMetadata(CACHEABLE_METADATA, handler) !== undefined;
    const evict = Reflect.getMetadata(CACHE_EVICT_METADATA, handler) !== undefined;
    let reason = notCachedReason(kind, { cacheable, evict, onController: owner === 'controller' });
    if (kind === 'field' && cacheable && fieldResolversIntercepted(this.moduleRef) === false) reason = FIELD_RESOLVERS_NOT_INTERCEPTED;
    if (reason === undefined) return true;
    if (!this.warned.has(handler)) this.logger.warn(`${where}: ${reason}`);
    this.warned.add(handler);
    return false;
  }

  /**
   * A default key begins with the class and method names, the only names a class has in every
   * instance of the app: two classes of one name (in two modules, or as a minifier names them)
   * would answer each other's calls. That fails start-up instead, saying what to do.
   */
  private claimDefaultKeys(cacheName: string, where: string, owner: unknown): void {
    const claim = `${cacheName}\u0000${where}`;
    const claimed = this.defaultKeyOwners.get(claim);
    if (claimed === undefined) this.defaultKeyOwners.set(claim, owner);
    else if (claimed !== owner) {
      throw new CacheRegistrationError(
        cacheName,
        `two provider classes are named "${where.slice(0, where.lastIndexOf('.'))}", and @Cacheable on ${where} makes its default keys of that name: ` +
          "one class's calls would be answered with the other's results. Give @Cacheable a key on one of them (or both), or rename a class " +
          '(a minified bundle needs keep-names, or keys given).',
      );
    }
  }

  private cacheFor(where: string, name: string | undefined) {
    try {
      return this.registry.get(name);
    } catch (error) {
      if (error instanceof CacheRegistrationError)
        throw new CacheRegistrationError(error.cacheName, `named by ${where}, is not registered. ${error.message.replace(/^.*?: /, '')}`);
      throw error;
    }
  }
}
