import { describe, expect, it } from 'vitest';
import { argumentsKey } from '../../src/nest/methods/method-key.js';

const key = (...args: unknown[]) => {
  const encoded = argumentsKey(args);
  if (encoded.unencodable !== undefined) throw new Error(`expected a key, got: ${encoded.unencodable}`);
  return encoded.key;
};
const reason = (...args: unknown[]) => argumentsKey(args).unencodable;

describe("the default key of a provider method's arguments (argumentsKey)", () => {
  it('reads as JSON for strings, numbers, arrays and booleans', () => {
    expect(key(1)).toBe('[1]');
    expect(key('a', [true, null])).toBe('["a",[true,null]]');
  });

  it('tells Sets apart by their members, in any order', () => {
    expect(key(new Set(['guest']))).not.toBe(key(new Set(['admin'])));
    expect(key(new Set(['a', 'b']))).toBe(key(new Set(['b', 'a'])));
    expect(key(new Set([1]))).not.toBe(key(new Set(['1'])));
    expect(key(new Set())).not.toBe(key({}));
  });

  it('tells Maps apart by their entries, in any order', () => {
    expect(key(new Map([['role', 'guest']]))).not.toBe(key(new Map([['role', 'admin']])));
    expect(
      key(
        new Map([
          ['a', 1],
          ['b', 2],
        ]),
      ),
    ).toBe(
      key(
        new Map([
          ['b', 2],
          ['a', 1],
        ]),
      ),
    );
    expect(key(new Map([[1, 'x']]))).not.toBe(key(new Map([['1', 'x']])));
    expect(key(new Map())).not.toBe(key(new Set()));
  });

  it('tells undefined from null, inside objects and arrays too', () => {
    expect(key(null, 1)).not.toBe(key(undefined, 1));
    expect(key({ a: undefined })).not.toBe(key({ a: null }));
    expect(key({ a: undefined })).not.toBe(key({}));
    expect(key([undefined])).not.toBe(key([null]));
  });

  it('takes a trailing undefined argument as one not given', () => {
    expect(key('x', undefined)).toBe(key('x'));
    expect(key(undefined, 'x')).not.toBe(key('x'));
  });

  it('sorts object keys, so that {a, b} and {b, a} share a key', () => {
    expect(key({ a: 1, b: 2 })).toBe(key({ b: 2, a: 1 }));
    expect(key({ nested: { y: 1, x: 2 } })).toBe(key({ nested: { x: 2, y: 1 } }));
    expect(key(Object.assign(Object.create(null), { a: 1 }))).toBe(key({ a: 1 }));
  });

  it('keys BigInts, and tells them from numbers and strings', () => {
    expect(key(1n)).toBe('[1n]');
    expect(key(1n)).not.toBe(key(1));
    expect(key(12345678901234567890n)).not.toBe(key(12345678901234567891n));
  });

  it('keys Dates by their instant', () => {
    expect(key(new Date(0))).toBe(key(new Date('1970-01-01T00:00:00Z')));
    expect(key(new Date(0))).not.toBe(key(new Date(1)));
    expect(key(new Date(0))).not.toBe(key(0));
  });

  it('keys Buffers and typed arrays by their bytes and their type', () => {
    expect(key(Buffer.from('ab'))).not.toBe(key(Buffer.from('ac')));
    expect(key(Buffer.from('ab'))).toBe(key(Buffer.from('ab')));
    expect(key(new Uint8Array([1, 2]))).not.toBe(key(Buffer.from([1, 2])));
    expect(key(new Uint8Array([1, 2]))).not.toBe(key(new Int8Array([1, 2])));
    expect(key(new Uint8Array([1, 2]).buffer)).not.toBe(key(new Uint8Array([1, 3]).buffer));
    const bytes = new Uint8Array([9, 1, 2, 9]);
    expect(key(bytes.subarray(1, 3))).toBe(key(new Uint8Array([1, 2])));
  });

  it('keeps numbers that JSON cannot write apart', () => {
    expect(key(Number.NaN)).not.toBe(key(null));
    expect(key(Number.POSITIVE_INFINITY)).not.toBe(key(Number.NEGATIVE_INFINITY));
    expect(key(-0)).not.toBe(key(0));
  });

  it('cannot be fooled by a string that spells another value', () => {
    expect(key('1')).not.toBe(key(1));
    expect(key('a","b')).not.toBe(key('a', 'b'));
    expect(key(['a,b'])).not.toBe(key(['a', 'b']));
    expect(key({ 'a":1,"b': 2 })).not.toBe(key({ a: 1, b: 2 }));
  });

  it("tells an array's hole from an undefined in its place", () => {
    // eslint-disable-next-line no-sparse-arrays -- the hole is what is tested
    expect(key([, 1])).not.toBe(key([undefined, 1]));
  });

  it('encodes an object met twice (not a cycle) each time', () => {
    const shared = { id: 1 };
    expect(key(shared, shared)).toBe(key({ id: 1 }, { id: 1 }));
  });

  it('has no key for what its data cannot tell apart, and says where it is', () => {
    expect(reason('x', () => 1)).toBe('arguments[1] is a function');
    expect(reason({ onLoad() {} })).toBe('arguments[0].onLoad is a function');
    expect(reason(Symbol('s'))).toBe('arguments[0] is a symbol');
    expect(reason({ [Symbol('s')]: 1 })).toBe('arguments[0] has a symbol key');
    class Query {
      constructor(readonly id: string) {}
    }
    expect(reason(new Query('1'))).toContain('arguments[0] is a Query instance');
    expect(reason(/re/)).toContain('RegExp instance');
    expect(reason(new Set([() => 1]))).toBe('arguments[0] (a member) is a function');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(reason(cyclic)).toBe('arguments[0].self is circular');
  });

  it('has no key for an argument nested deeper than any real one, rather than overflowing the stack', () => {
    let deep: unknown = 1;
    for (let level = 0; level < 10_000; level++) deep = [deep];
    expect(reason(deep)).toContain('nested more than 100 levels deep');
  });

  it('keys the properties an array holds beside its elements', () => {
    const one = Object.assign([1], { extra: 'one' });
    const two = Object.assign([1], { extra: 'two' });
    expect(key(one)).not.toBe(key(two));
    expect(key(one)).not.toBe(key([1]));
    expect(key(Object.assign([1], { b: 2, a: 1 }))).toBe(key(Object.assign([1], { a: 1, b: 2 })));
  });
});
