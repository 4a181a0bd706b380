import { DIGEST_MARKER, RESERVED_KEY_START } from '../store/keys.js';
import { CLEARED_MARKER, CLEARED_TAG, TAG_MARKER } from '../store/tags.js';
import type { BackplaneMember } from './backplane-port.js';
import { CLEAR_ALL, isJournalShaped } from './journal.js';

/**
 * Routes a changed partition key to the memory tier of the cache it belongs to, by key prefix
 * (longest first, so that a cache whose prefix extends another's gets its own keys).
 */
export class KeyRouter {
  /** Longest first. */
  readonly prefixes: readonly string[];
  private readonly byPrefix: readonly BackplaneMember[];

  constructor(caches: readonly BackplaneMember[]) {
    this.byPrefix = [...caches].sort((a, b) => b.partitionKeyPrefix.length - a.partitionKeyPrefix.length);
    this.prefixes = this.byPrefix.map((cache) => cache.partitionKeyPrefix);
  }

  /**
   * Drops the key's memory copy, if one of these caches holds it, and says whether other instances
   * need the news: not for a cache's own items (chunks, leases, version items), whose head item's
   * record carries it; yes for a key of no cache known here, which another instance may have,
   * unless it is another app's journal item (whose renewals would otherwise be news every cycle).
   */
  apply(partitionKey: string): { readonly dropped: boolean; readonly news: boolean } {
    const cache = this.byPrefix.find((candidate) => partitionKey.startsWith(candidate.partitionKeyPrefix));
    if (cache === undefined) return { dropped: false, news: !isJournalShaped(partitionKey) };
    const key = partitionKey.slice(cache.partitionKeyPrefix.length);
    // A tag's item, or the cache's cleared-at item, changed: its entries are retired everywhere.
    if (key.startsWith(TAG_MARKER)) cache.forgetTag(key.slice(TAG_MARKER.length));
    else if (key === CLEARED_MARKER) cache.forgetTag(CLEARED_TAG);
    // A long key's digest is the cache's to resolve; its other reserved items (chunks, leases, versions) are no news.
    else if (key.startsWith(RESERVED_KEY_START) && !key.startsWith(DIGEST_MARKER)) return { dropped: false, news: false };
    else cache.forgetKey(key);
    return { dropped: true, news: true };
  }

  /** Clears the cache whose prefix this is (`CLEAR_ALL`: every cache); true when one was. */
  clear(prefix: string): boolean {
    const caches = prefix === CLEAR_ALL ? this.byPrefix : this.byPrefix.filter((cache) => cache.partitionKeyPrefix === prefix);
    for (const cache of caches) cache.forgetAll();
    return caches.length > 0;
  }
}
