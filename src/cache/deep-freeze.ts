/**
 * Freezes a plain JSON value (objects, arrays, primitives) all the way down, so that one caller of
 * the memory tier cannot change what another caller is handed. Only used on values the cache parsed
 * itself: a caller's own object is never frozen.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
