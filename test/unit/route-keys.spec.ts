import { describe, expect, it } from 'vitest';
import { deepFreeze } from '../../src/cache/deep-freeze.js';
import { bodyForHit, unstorableReason } from '../../src/nest/http/cached-response.js';
import { entryTtl } from '../../src/nest/entry-ttl.js';
import { DEFAULT_CREDENTIAL_HEADERS, defaultRouteKey, personalRequestReason } from '../../src/nest/http/http-cache-key.js';

describe("which requests may share a route's entry (personalRequestReason)", () => {
  const alice = { authorization: 'Bearer alice' };

  it('lets a request without credentials share the entry', () => {
    expect(personalRequestReason({ 'accept-language': 'en' }, {})).toBeUndefined();
  });

  it('keeps every default credential header from sharing: authorization, proxy-authorization, cookie, x-api-key', () => {
    expect(DEFAULT_CREDENTIAL_HEADERS).toEqual(['authorization', 'proxy-authorization', 'cookie', 'x-api-key']);
    for (const name of DEFAULT_CREDENTIAL_HEADERS) expect(personalRequestReason({ [name]: 'secret' }, {}), name).toBe(name);
  });

  it('counts a header sent empty as sent', () => {
    expect(personalRequestReason({ cookie: '' }, {})).toBe('cookie');
  });

  it('does not take a fixed string key as keyed per user', () => {
    expect(personalRequestReason(alice, { key: 'me' })).toBe('authorization');
  });

  it('does not take a key function as keyed per user: it may key by anything but the user', () => {
    expect(personalRequestReason(alice, { key: (req: { params: { c: string } }) => `city:${req.params.c}` })).toBe('authorization');
    // The route vouches for its key function with shared: true.
    expect(personalRequestReason(alice, { key: () => 'me:alice', shared: true })).toBeUndefined();
  });

  it('takes vary as keying per user only for the headers it names', () => {
    expect(personalRequestReason({ 'x-api-key': 'k' }, { vary: ['x-api-key'] })).toBeUndefined();
    expect(personalRequestReason({ 'x-api-key': 'k', cookie: 'sid=1' }, { vary: ['x-api-key'] })).toBe('cookie');
    expect(personalRequestReason({ 'x-api-key': 'k' }, { vary: ['authorization'] })).toBe('x-api-key');
  });

  it('lets a shared: true route share whatever the request carries', () => {
    expect(personalRequestReason({ ...alice, cookie: 'sid=1', 'x-api-key': 'k' }, { shared: true })).toBeUndefined();
  });

  it("uses the route's own credentialHeaders instead of the default list", () => {
    expect(personalRequestReason({ 'x-tenant-token': 't' }, { credentialHeaders: ['x-tenant-token'] })).toBe('x-tenant-token');
    expect(personalRequestReason(alice, { credentialHeaders: ['x-tenant-token'] })).toBeUndefined();
  });
});

describe('the default key of a route (defaultRouteKey)', () => {
  const key = (url: string, method = 'GET') => defaultRouteKey(method, url);

  it("is the method and the path when there is no query, HEAD sharing GET's", () => {
    expect(key('/weather/Oslo')).toBe('GET /weather/Oslo');
    expect(key('/weather/Oslo', 'HEAD')).toBe('GET /weather/Oslo');
  });

  it('shares one entry between the same parameters in another order', () => {
    expect(key('/w?b=1&a=2')).toBe(key('/w?a=2&b=1'));
    expect(key('/w?b=1&a=2')).toBe('GET /w?a=2&b=1');
  });

  it('sorts by the decoded name: an encoded name is the same parameter, and keeps its place among its repeats', () => {
    expect(key('/w?a=2&%61=1')).toBe('GET /w?a=2&a=1');
    expect(key('/w?%61=1&a=2')).toBe('GET /w?a=1&a=2');
    expect(key('/w?a=2&%61=1')).not.toBe(key('/w?%61=1&a=2'));
  });

  it('keeps the order of a repeated parameter, which a handler may depend on', () => {
    expect(key('/w?tag=b&tag=a')).not.toBe(key('/w?tag=a&tag=b'));
  });

  it('shares one entry between two spellings of the same value', () => {
    expect(key('/w?q=a%20b')).toBe(key('/w?q=a+b'));
    expect(key('/w?city=%4Fslo')).toBe(key('/w?city=Oslo'));
  });

  it('cannot confuse an encoded = or & with the one that splits the query', () => {
    expect(key('/w?a%3Db=c')).not.toBe(key('/w?a=b%3Dc'));
    expect(key('/w?a=1%26b%3D2')).not.toBe(key('/w?a=1&b=2'));
  });

  it('treats an empty query as none', () => {
    expect(key('/w?')).toBe(key('/w'));
  });

  it('keeps a malformed escape as the characters it is, as the query parser does', () => {
    expect(key('/w?x=%zz')).toBe(key('/w?x=%25zz'));
  });
});

describe('which answers are not stored (unstorableReason)', () => {
  const noHeaders = () => undefined;
  const headers = (values: Record<string, string>) => (name: string) => values[name];

  it('stores plain data with a 200', () => {
    expect(unstorableReason({ a: [1, new Date(0)] }, 200, [200], noHeaders)).toBeUndefined();
  });

  it('does not store no value, a status the route does not cache or a private answer, and says the route meant it', () => {
    expect(unstorableReason(undefined, 200, [200], noHeaders)).toMatchObject({ deliberate: true, reason: 'the handler returned no value' });
    expect(unstorableReason(null, 200, [200], noHeaders)).toMatchObject({ deliberate: true });
    expect(unstorableReason({}, 202, [200], noHeaders)?.reason).toContain('202');
    expect(unstorableReason({}, 200, [200], headers({ 'cache-control': 'private, max-age=60' }))).toMatchObject({ deliberate: true });
    expect(unstorableReason({}, 200, [200], headers({ 'cache-control': 'private, max-age=60' }))?.reason).toContain('private');
    expect(unstorableReason({}, 200, [200], headers({ 'cache-control': 'no-store' }))?.reason).toContain('no-store');
  });

  it("does not store an answer that sets a cookie, one visitor's, and says the route is likely cached by mistake", () => {
    expect(unstorableReason({}, 200, [200], headers({ 'set-cookie': 'sid=1' }))).toMatchObject({ deliberate: false });
    expect(unstorableReason({}, 200, [200], headers({ 'set-cookie': 'sid=1' }))?.reason).toContain('sets a cookie (Set-Cookie)');
  });

  it('does not store a class instance, deep or not, and says it was likely a mistake', () => {
    class View {}
    expect(unstorableReason(new View(), 200, [200], noHeaders)).toMatchObject({ deliberate: false });
    expect(unstorableReason({ list: [{ view: new View() }] }, 200, [200], noHeaders)?.reason).toContain('View instance');
  });
});

describe("a hit's body (bodyForHit)", () => {
  it('is a copy that may be changed, of a frozen stored body, leaving the stored one as it was', () => {
    const stored = Object.freeze({ keep: 1, internal: Object.freeze({ secret: 'x' }) });
    const body = bodyForHit(stored, false) as { keep: number; internal?: unknown };
    delete body.internal;
    expect(body).toEqual({ keep: 1 });
    expect(stored.internal).toEqual({ secret: 'x' });
  });

  it('copies every level of a frozen JSON body, arrays and a "__proto__" key included', () => {
    // As the memory tier keeps it: parsed from JSON, then deeply frozen.
    const stored = deepFreeze(JSON.parse('{"list":[{"a":1}],"__proto__":{"polluted":true}}')) as { list: Array<{ a: number }> };
    const body = bodyForHit(stored, false) as { list: Array<{ a: number }>; polluted?: boolean };
    body.list[0]!.a = 2;
    expect(stored.list[0]!.a).toBe(1);
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    expect(body.polluted).toBeUndefined();
    expect(Object.keys(body)).toEqual(['list', '__proto__']);
  });

  it("hands a body that is not frozen and is this request's own (decoded for this hit) as it is, without a copy", () => {
    const decoded = { at: new Date(0) };
    expect(bodyForHit(decoded, false)).toBe(decoded);
  });

  it('copies a body shared with the other requests that joined one load, Dates and all', () => {
    const sharedBody = { at: new Date(0), list: [1] };
    const body = bodyForHit(sharedBody, true) as typeof sharedBody;
    expect(body).not.toBe(sharedBody);
    expect(body).toEqual(sharedBody);
    body.list.push(2);
    expect(sharedBody.list).toEqual([1]);
  });

  it('keeps bytes as a Buffer and text as it is', () => {
    expect(Buffer.isBuffer(bodyForHit(Buffer.from('hi'), true))).toBe(true);
    expect(bodyForHit('plain text', true)).toBe('plain text');
  });
});

describe('the ttl a route or method stores a value for (entryTtl)', () => {
  it("is the cache's default when none is given", () => {
    expect(entryTtl(undefined, {})).toEqual({ ttl: undefined });
  });

  it('is the number given, or what the function returns for the value; 0 is never expires', () => {
    expect(entryTtl(60_000, {})).toEqual({ ttl: 60_000 });
    expect(entryTtl((value: { maxAge: number }) => value.maxAge, { maxAge: 5 })).toEqual({ ttl: 5 });
    expect(entryTtl(() => 0, {})).toEqual({ ttl: 0 });
  });

  it('stores nothing for a ttl that is not a finite number >= 0, and says what it was', () => {
    expect(entryTtl(() => -5, {}).problem).toBe('its ttl function returned -5, not a duration in ms >= 0 (0: never expires)');
    expect(entryTtl(() => Number.NaN, {}).problem).toContain('returned NaN');
    expect(entryTtl(() => Number.POSITIVE_INFINITY, {}).problem).toContain('returned Infinity');
    expect(entryTtl((() => '60s') as never, {}).problem).toContain('returned "60s"');
    expect(entryTtl((() => undefined) as never, {}).problem).toContain('returned undefined');
    expect(entryTtl((() => 5n) as never, {}).problem).toContain('returned 5n');
  });

  it('stores nothing when the ttl function throws, and names its error', () => {
    const problem = entryTtl(() => {
      throw new RangeError('no max-age');
    }, {}).problem;
    expect(problem).toBe('its ttl function threw RangeError: no max-age');
  });
});
