type HeaderValue = string | number | readonly string[] | undefined;

/**
 * The Vary header an answer goes out with: the one it has already (a middleware's, as CORS's `Origin`,
 * an interceptor's or the handler's) with the route's `vary` headers added after it, each header named
 * once whatever its case. A cache in front (a CDN, a browser) then keeps one answer per value of each.
 * `*` (varies by everything) stays as it is. Undefined when there is nothing to add.
 */
export function mergedVary(current: HeaderValue, names: readonly string[]): string | undefined {
  const listed = (Array.isArray(current) ? current.join(',') : String(current ?? ''))
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (listed.includes('*')) return undefined;
  const named = new Set(listed.map((name) => name.toLowerCase()));
  const merged = [...listed];
  for (const name of names) {
    if (named.has(name.toLowerCase())) continue;
    named.add(name.toLowerCase());
    merged.push(name);
  }
  return merged.length === listed.length ? undefined : merged.join(', ');
}
