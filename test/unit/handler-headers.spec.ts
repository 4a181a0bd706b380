import { describe, expect, it } from 'vitest';
import {
  cookiesSetBy,
  headerSnapshot,
  headersSetSince,
  removeUnlessNotModified,
  sentWithNotModified,
} from '../../src/nest/http/handler-headers.js';

type Value = string | number | string[];

/** A response as Node's ServerResponse keeps its headers: lower-cased names, the names as set beside them. */
class FakeResponse {
  private readonly values = new Map<string, { name: string; value: Value }>();

  setHeader(name: string, value: Value): void {
    this.values.set(name.toLowerCase(), { name, value });
  }
  removeHeader(name: string): void {
    this.values.delete(name.toLowerCase());
  }
  getHeaders(): Record<string, Value> {
    return Object.fromEntries([...this.values].map(([lower, { value }]) => [lower, value]));
  }
  getRawHeaderNames(): string[] {
    return [...this.values.values()].map(({ name }) => name);
  }
}

describe('the headers a handler set (headersSetSince)', () => {
  it('are those set or changed after the snapshot, named as they were set, numbers as text', () => {
    const response = new FakeResponse();
    response.setHeader('Access-Control-Allow-Origin', 'https://a.example');
    response.setHeader('X-Powered-By', 'Express');
    response.setHeader('Cache-Control', 'no-cache');
    const before = headerSnapshot(response);
    response.setHeader('X-Total-Count', 42);
    response.setHeader('Cache-Control', 'public, max-age=60');
    response.setHeader('Link', ['</p?page=2>; rel="next"', '</p?page=9>; rel="last"']);
    response.setHeader('X-Powered-By', 'Express');
    expect(headersSetSince(before, response)).toEqual({
      'X-Total-Count': '42',
      'Cache-Control': 'public, max-age=60',
      Link: ['</p?page=2>; rel="next"', '</p?page=9>; rel="last"'],
    });
  });

  it('are none when the handler set nothing', () => {
    const response = new FakeResponse();
    response.setHeader('Vary', 'Origin');
    expect(headersSetSince(headerSnapshot(response), response)).toBeUndefined();
  });

  it('leave out hop-by-hop headers, those Connection names, the length, the date and those the cache keeps apart', () => {
    const response = new FakeResponse();
    const before = headerSnapshot(response);
    for (const name of ['Keep-Alive', 'Transfer-Encoding', 'Upgrade', 'Proxy-Authenticate', 'Trailer', 'TE', 'Proxy-Connection'])
      response.setHeader(name, 'x');
    response.setHeader('Connection', 'keep-alive, X-Hop');
    response.setHeader('X-Hop', '1');
    response.setHeader('Content-Length', 12);
    response.setHeader('Date', 'Tue, 08 Dec 2026 00:00:00 GMT');
    response.setHeader('ETag', '"v7"');
    response.setHeader('Content-Type', 'text/csv');
    response.setHeader('Age', 3);
    response.setHeader('X-Cache', 'MISS');
    response.setHeader('Set-Cookie', ['sid=1']);
    response.setHeader('Location', '/orders/7');
    expect(headersSetSince(before, response)).toEqual({ Location: '/orders/7' });
  });

  it('are lower-cased where the response keeps no names as set (a Fastify reply)', () => {
    const headers: Record<string, string> = {};
    const reply = { getHeaders: () => ({ ...headers }) };
    const before = headerSnapshot(reply);
    headers['x-total-count'] = '3';
    expect(headersSetSince(before, reply)).toEqual({ 'x-total-count': '3' });
  });
});

describe('a 304 (RFC 9110 §15.4.5)', () => {
  it('carries Cache-Control, Content-Location, Expires and Vary of the headers the handler set, whatever their case', () => {
    expect(['Cache-Control', 'content-location', 'Expires', 'VARY'].every(sentWithNotModified)).toBe(true);
    expect(['X-Total-Count', 'Link', 'Location', 'Last-Modified'].some(sentWithNotModified)).toBe(false);
  });

  it("has the others taken off a miss's response, so that it is a hit's 304", () => {
    const response = new FakeResponse();
    response.setHeader('X-Total-Count', '3');
    response.setHeader('Cache-Control', 'max-age=60');
    removeUnlessNotModified(response, { 'X-Total-Count': '3', 'Cache-Control': 'max-age=60' });
    expect(response.getHeaders()).toEqual({ 'cache-control': 'max-age=60' });
  });
});

describe('the cookies a response sets (cookiesSetBy)', () => {
  it("are its Set-Cookie header, or those @fastify/cookie's reply.setCookie holds until the reply is sent", () => {
    expect(cookiesSetBy({}, 'sid=1')).toBe('sid=1');
    expect(cookiesSetBy({}, undefined)).toBeUndefined();
    const reply = { [Symbol('fastify.reply.setCookies')]: new Map([['sid;undefined;/', { name: 'sid', value: '1' }]]) };
    expect(cookiesSetBy(reply, undefined)).toEqual(['sid;undefined;/']);
    expect(cookiesSetBy({ [Symbol('fastify.reply.setCookies')]: new Map() }, undefined)).toBeUndefined();
  });
});
