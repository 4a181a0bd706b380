import { describe, expect, it } from 'vitest';
import { SerializationError } from '../../src/store/errors.js';
import { PayloadFormat, deserializeValue, serializeValue } from '../../src/store/value-serializer.js';

const roundTrip = (value: unknown) => {
  const { bytes, format } = serializeValue('k', value);
  return deserializeValue(bytes, format);
};

describe('value serializer', () => {
  it.each([
    ['a string', 'hello ✓'],
    ['a number', 42.5],
    ['null', null],
    ['a boolean', false],
    ['an array', [1, 'two', { three: 3 }]],
    ['a nested object', { a: { b: [1, 2, { c: 'd' }] } }],
  ])('round-trips %s as plain JSON', (_name, value) => {
    expect(serializeValue('k', value).format).toBe(PayloadFormat.Json);
    expect(roundTrip(value)).toEqual(value);
  });

  it('finds a value JSON cannot hold as it is at any depth, past the plain-JSON shortcut too', () => {
    let deep: unknown = { at: new Date(0) };
    for (let level = 0; level < 40; level++) deep = [{ level, next: deep }];
    expect(serializeValue('k', deep).format).toBe(PayloadFormat.TaggedJson);
    expect(roundTrip(deep)).toEqual(deep);
    const withToJson = { price: { toJSON: () => '12.50 EUR' } };
    expect(roundTrip(withToJson)).toEqual({ price: '12.50 EUR' });
    class Point {
      constructor(readonly x: number) {}
    }
    expect(roundTrip({ p: new Point(1) })).toEqual({ p: { x: 1 } });
    expect(serializeValue('k', { '$dc:t': 'Date', v: 'not a date' }).format).toBe(PayloadFormat.TaggedJson);
    expect(roundTrip({ '$dc:t': 'Date', v: 'not a date' })).toEqual({ '$dc:t': 'Date', v: 'not a date' });
  });

  it('writes plain values byte for byte as JSON.stringify does', () => {
    const value = { list: [1, null, 'x', { nested: true, skipped: undefined }], sparse: [1, undefined, 3], empty: {} };
    expect(Buffer.from(serializeValue('k', value).bytes).toString()).toBe(JSON.stringify(value));
  });

  it('round-trips Date, Map, Set, BigInt, NaN and Infinity, nested', () => {
    const value = {
      at: new Date('2026-01-02T03:04:05.678Z'),
      invalid: new Date(Number.NaN),
      map: new Map<unknown, unknown>([
        ['a', 1],
        [2, new Set(['x'])],
      ]),
      big: 12345678901234567890n,
      notANumber: Number.NaN,
      list: [Number.NEGATIVE_INFINITY, new Date(0)],
    };
    expect(serializeValue('k', value).format).toBe(PayloadFormat.TaggedJson);
    const back = roundTrip(value) as typeof value;
    expect(back).toEqual(value);
    expect(back.map).toBeInstanceOf(Map);
    expect(typeof back.big).toBe('bigint');
  });

  it('round-trips Buffers and Uint8Arrays, top-level as raw bytes and nested as base64', () => {
    const buffer = Buffer.from([0, 1, 2, 255]);
    const bytes = new Uint8Array([9, 8, 7]);
    // Its own bytes, not base64, and a copy of them: the caller may reuse its buffer after set.
    const payload = serializeValue('k', buffer);
    expect([...payload.bytes]).toEqual([...buffer]);
    expect(payload.bytes.buffer).not.toBe(buffer.buffer);
    expect((deserializeValue(payload.bytes, payload.format) as Buffer).buffer).not.toBe(payload.bytes.buffer);
    expect(roundTrip(buffer)).toEqual(buffer);
    expect(Buffer.isBuffer(roundTrip(buffer))).toBe(true);
    const back = roundTrip(bytes) as Uint8Array;
    expect(Buffer.isBuffer(back)).toBe(false);
    expect([...back]).toEqual([9, 8, 7]);
    const nested = roundTrip({ buffer, bytes }) as { buffer: Buffer; bytes: Uint8Array };
    expect(Buffer.isBuffer(nested.buffer)).toBe(true);
    expect(nested.buffer.equals(buffer)).toBe(true);
    expect(nested.bytes.constructor).toBe(Uint8Array);
  });

  it('keeps a user object that owns the tag property as it was', () => {
    const sneaky = { '$dc:t': 'Date', v: 'not a date', other: [1] };
    expect(roundTrip(sneaky)).toEqual(sneaky);
  });

  it.each([
    ['undefined', undefined, /undefined/],
    ['a function', () => 1, /a function/],
    ['a nested function', { handler: () => 1 }, /property "handler"/],
    ['a symbol', Symbol('s'), /a symbol/],
  ])('refuses %s with a SerializationError naming the key', (_name, value, message) => {
    expect(() => serializeValue('orders:7', value)).toThrow(SerializationError);
    expect(() => serializeValue('orders:7', value)).toThrow(/orders:7/);
    expect(() => serializeValue('orders:7', value)).toThrow(message);
  });

  it('refuses a circular structure', () => {
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    expect(() => serializeValue('k', circular)).toThrow(/circular/i);
  });

  it('throws on bytes that are not JSON, so the caller can treat the item as foreign', () => {
    expect(() => deserializeValue(Buffer.from('{nope'), PayloadFormat.Json)).toThrow(SyntaxError);
  });
});
