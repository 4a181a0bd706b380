import { createHash } from 'node:crypto';
import { argumentsKey } from '../methods/method-key.js';

/**
 * One value (a resolver's arguments or parent, a message's pattern or data) written as a key is:
 * equal data, equal text (see method-key.ts); a TypeError naming `what` when it has no exact form.
 */
export function encodedValue(value: unknown, what: string): string {
  const encoded = argumentsKey([value]);
  if (encoded.unencodable !== undefined) {
    throw new TypeError(
      `${encoded.unencodable.replace(/^arguments\[0\]/, what)}, so the call has no exact default key; give @Cacheable a key function to cache it`,
    );
  }
  // `[value]` as a list; a trailing undefined is dropped (`[]`), which leaves an empty string.
  return encoded.key.slice(1, -1);
}

/** A short digest of an encoded value, for a part of the key that could be long (a resolver's parent). */
export function digestOf(encoded: string): string {
  return createHash('sha256').update(encoded).digest('base64url').slice(0, 22);
}
