import type { BackplaneOptions } from '../../backplane/backplane-options.js';
import type { DynamoCacheOptions } from '../../cache/cache-options.js';
import type { DynamoSessionOptions } from '../../session/dynamo-session-store.js';
import type { DynamoStoreOptions } from '../../store/store-options.js';

/**
 * `DynamoCacheModule.forRoot()` options: the store's (table, client, key prefix, default ttl…) and
 * the cache's (error policy). Warnings go through Nest's Logger unless `logger` says otherwise.
 */
export interface DynamoCacheModuleOptions extends DynamoStoreOptions, DynamoCacheOptions {
  /** The express-session store (`DynamoSessionStore`), kept under the `session:` prefix of the same table. */
  session?: DynamoSessionOptions;
  /** Keeps every instance's memory tier coherent: `{ type: 'streams' }` or `{ type: 'poll' }` (see the README). */
  backplane?: BackplaneOptions;
}
