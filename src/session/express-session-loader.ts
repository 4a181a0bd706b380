type ExpressSessionStore = { prototype: { createSession(this: unknown, request: unknown, data: unknown): unknown } };
let expressSession: { store?: ExpressSessionStore; error?: unknown } | undefined;
let expressSessionLoading: Promise<void> | undefined;

/**
 * express-session is the app's, and only needed by its own calls: loaded (once) when a session is
 * found, so that apps without it (Fastify's) never need it. A dynamic import, because it is the one
 * way to load a package that reads the same in the ESM build and the CommonJS one.
 */
export function expressSessionLoaded(): Promise<void> {
  expressSessionLoading ??= import('express-session').then(
    (loaded) => {
      const exported =
        (loaded as { default?: { Store: ExpressSessionStore } }).default ?? (loaded as unknown as { Store: ExpressSessionStore });
      expressSession = { store: exported.Store };
    },
    (error: unknown) => {
      expressSession = { error };
    },
  );
  return expressSessionLoading;
}

export function expressSessionStore(): ExpressSessionStore {
  if (expressSession?.store !== undefined) return expressSession.store;
  throw new Error(
    expressSession === undefined
      ? "DynamoSessionStore.createSession is express-session's, called after its get() found the session: call get() first"
      : 'DynamoSessionStore.createSession needs the express-session package: npm install express-session',
    { cause: expressSession?.error },
  );
}
