import { createHash } from 'node:crypto';

/**
 * A validator for a route's answer, made once when the answer is stored so that a hit computes
 * nothing: the first 128 bits of the SHA-256 of the body's bytes or JSON, with the status and content
 * type, so that two answers differing in any of them never share a tag. Weak (`W/`), because an
 * interceptor outside the cache's may reformat the body it sends, not its meaning.
 */
export function entityTagOf(status: number, contentType: string | undefined, body: unknown): string {
  const digest = createHash('sha256')
    .update(`${status}\n${contentType ?? ''}\n`)
    .update(typeof body === 'string' || ArrayBuffer.isView(body) ? (body as string | Uint8Array) : stableJson(body))
    .digest('base64url')
    .slice(0, 22);
  return `W/"${digest}"`;
}

// Maps and Sets, which JSON.stringify writes as {}, written by their contents so that two of them differ.
const stableJson = (body: unknown) =>
  JSON.stringify(body, (_key, value: unknown) =>
    value instanceof Map ? { map: [...value] } : value instanceof Set ? { set: [...value] } : value,
  ) ?? '';

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
