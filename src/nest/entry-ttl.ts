import { describe } from './burst-warning.js';
import type { CacheableOptions } from './interfaces/cacheable-options.js';

/**
 * A route's or method's ttl for one value: ms (0: never expires), undefined for the cache's own
 * default; or, when it has none that can be stored, the problem, for a warning.
 */
export type EntryTtl =
  { readonly ttl: number | undefined; readonly problem?: undefined } | { readonly ttl?: undefined; readonly problem: string };

/**
 * The one rule for `@Cacheable`'s ttl, on routes and provider methods alike. The decorator checks a
 * number where it is written; a function is only known per value, and what it returns is stored
 * only when it is a finite number >= 0. Anything else (-5, NaN, Infinity, '60s', a throw) would be
 * stored forever or fail the write, so the value is served and not stored.
 */
export function entryTtl(ttl: CacheableOptions['ttl'], value: unknown): EntryTtl {
  if (ttl === undefined) return { ttl: undefined };
  let resolved: unknown;
  try {
    resolved = typeof ttl === 'function' ? ttl(value) : ttl;
  } catch (error) {
    return { problem: `its ttl function threw ${describe(error)}` };
  }
  if (typeof resolved === 'number' && Number.isFinite(resolved) && resolved >= 0) return { ttl: resolved };
  return {
    problem: `its ttl ${typeof ttl === 'function' ? 'function returned' : 'is'} ${shown(resolved)}, not a duration in ms >= 0 (0: never expires)`,
  };
}

function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  return typeof value === 'object' && value !== null ? 'an object' : String(value);
}
