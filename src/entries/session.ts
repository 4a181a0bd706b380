/**
 * `nest-dynamo-cache/session`: the session store of express-session and Fastify's session plugin. The
 * module registers `DynamoSessionStore` as a provider (with the `session` option): import the class
 * from here to get it.
 *
 * @module nest-dynamo-cache/session
 */
export {
  DynamoSessionStore,
  type DynamoSessionOptions,
  type DynamoSessionStoreOptions,
  type SessionData,
} from '../session/dynamo-session-store.js';
export { SessionStoreError } from '../session/session-store-error.js';
