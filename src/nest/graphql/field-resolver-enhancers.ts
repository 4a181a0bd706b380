import type { ModuleRef } from '@nestjs/core';

// GRAPHQL_MODULE_OPTIONS of @nestjs/graphql's graphql.constants, by its literal value: this package does not import @nestjs/graphql.
const GRAPHQL_MODULE_OPTIONS = 'GqlModuleOptions';

/**
 * Whether GraphQLModule applies interceptors to field resolvers: it does only when told to
 * (`fieldResolverEnhancers: ['interceptors']`), and otherwise calls them directly, where no
 * `@Cacheable` can act. Undefined when the app has no GraphQLModule.
 */
export function fieldResolversIntercepted(moduleRef: ModuleRef): boolean | undefined {
  let options: { readonly fieldResolverEnhancers?: readonly string[] } | undefined;
  try {
    options = moduleRef.get(GRAPHQL_MODULE_OPTIONS, { strict: false });
  } catch {
    return undefined;
  }
  return options?.fieldResolverEnhancers?.includes('interceptors') ?? false;
}

export const FIELD_RESOLVERS_NOT_INTERCEPTED =
  "GraphQLModule applies no interceptor to a field resolver unless its options say fieldResolverEnhancers: ['interceptors'], " +
  'so this field runs uncached. Add that option to cache it.';
