// `nest-dynamo-cache/session`: the express-session / @fastify/session store. The module registers
// `DynamoSessionStore` as a provider (with the `session` option): import the class from here to get it.
export {
  DynamoSessionStore,
  type DynamoSessionOptions,
  type DynamoSessionStoreOptions,
  type SessionData,
} from '../session/dynamo-session-store.js';
export { SessionStoreError } from '../session/session-store-error.js';
