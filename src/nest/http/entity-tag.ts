import { createHash } from 'node:crypto';

/**
 * A strong validator for a route's answer, made once when the answer is stored so that a hit
 * computes nothing: the first 128 bits of the SHA-256 of what the body serializes to, with the
 * status and content type, so that two answers differing in any of them never share a tag.
 */
export function entityTagOf(status: number, contentType: string | undefined, serializedBody: string): string {
  const digest = createHash('sha256')
    .update(`${status}\n${contentType ?? ''}\n`)
    .update(serializedBody)
    .digest('base64url')
    .slice(0, 22);
  return `"${digest}"`;
}

/**
 * Whether `If-None-Match` names `entityTag`, by RFC 9110's weak comparison (13.1.2): `W/` prefixes
 * are ignored, `*` matches any current answer, and the header may list several tags.
 */
export function ifNoneMatchHolds(header: string | readonly string[] | undefined, entityTag: string): boolean {
  if (header === undefined) return false;
  const wanted = opaque(entityTag);
  for (const line of typeof header === 'string' ? [header] : header) {
    for (const candidate of line.split(',')) {
      const tag = candidate.trim();
      if (tag === '*' || opaque(tag) === wanted) return true;
    }
  }
  return false;
}

const opaque = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag);
