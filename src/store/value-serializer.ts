import { SerializationError } from './errors.js';
import { describeType } from './keys.js';

/**
 * How a payload's bytes are to be read back. Stored in the item (attribute `f`), absent for plain
 * JSON, so that a plain JSON read never pays for a reviver.
 */
export enum PayloadFormat {
  Json = 0,
  /** JSON in which some values are tagged objects (Date, Map, Set, BigInt, bytes, NaN…). */
  TaggedJson = 1,
  /** A top-level Buffer, stored as its own bytes rather than as base64 in JSON (a third smaller). */
  Buffer = 2,
  /** A top-level Uint8Array that is not a Buffer, so that it comes back as the same class. */
  Uint8Array = 3,
  /** Bytes of the serializer given in the options; the item also names it (attribute `sz`). */
  Custom = 4,
}

/**
 * A serializer of the application's choice (msgpackr, protobuf, …) in place of the built-in JSON.
 * Its `name` is stored with every item it writes, so that an item written by another serializer
 * reads as a miss instead of as garbage. Buffers and Uint8Arrays at the top level keep their own
 * format, whatever the serializer.
 */
export interface ValueSerializer {
  /** Stored with every item (attribute `sz`): an item another serializer wrote reads as a miss. Keep it short, and change it when the format changes. */
  readonly name: string;
  /** The bytes to store for a value; throwing rejects the write with a `SerializationError`, nothing written. */
  serialize(value: unknown): Uint8Array;
  /** The value back from what `serialize` wrote; throwing reads the item as a miss, with a warning. */
  deserialize(bytes: Uint8Array): unknown;
}

export interface SerializedPayload {
  readonly bytes: Uint8Array;
  readonly format: PayloadFormat;
  /** Set for `PayloadFormat.Custom`: the serializer that reads the bytes back. */
  readonly serializer?: ValueSerializer;
}

/**
 * The property that marks a tagged value. A user object that happens to own this property is itself
 * wrapped (tag `Object`), so no user data can be mistaken for a tag.
 */
const TAG = '$dc:t';

type Tagged = { [TAG]: string; v: unknown };

// JSON.stringify is synchronous, so one module-level flag safely tells the caller whether the
// replacer tagged anything, without allocating a closure per call.
let taggedDuringThisCall = false;
let keyBeingSerialized = '';

function tag(name: string, v: unknown): Tagged {
  taggedDuringThisCall = true;
  return { [TAG]: name, v };
}

function replacer(this: Record<string, unknown>, property: string, converted: unknown): unknown {
  // Date and Buffer define toJSON, which has already run: the holder still has the original.
  const original = this[property];
  switch (typeof original) {
    case 'object':
      if (original === null) return null;
      if (original instanceof Date) return tag('Date', Number.isNaN(original.getTime()) ? null : original.toISOString());
      if (original instanceof Uint8Array) {
        const bytes = Buffer.from(original.buffer, original.byteOffset, original.byteLength);
        return tag(Buffer.isBuffer(original) ? 'Buffer' : 'Uint8Array', bytes.toString('base64'));
      }
      if (original instanceof Map) return tag('Map', [...original]);
      if (original instanceof Set) return tag('Set', [...original]);
      if (converted !== null && typeof converted === 'object' && !Array.isArray(converted) && Object.hasOwn(converted, TAG)) {
        return tag('Object', Object.entries(converted));
      }
      return converted;
    case 'number':
      return Number.isFinite(original) ? converted : tag('Number', String(original));
    case 'bigint':
      return tag('BigInt', original.toString());
    case 'function':
    case 'symbol':
      throw new SerializationError(
        keyBeingSerialized,
        `${property === '' ? 'the value' : `property "${property}"`} is ${describeType(original)}, which JSON cannot hold`,
      );
    default:
      return converted;
  }
}

function reviver(_property: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || !Object.hasOwn(value, TAG)) return value;
  const { [TAG]: name, v } = value as Tagged;
  switch (name) {
    case 'Date':
      return new Date(v === null ? Number.NaN : (v as string));
    case 'Buffer':
      return Buffer.from(v as string, 'base64');
    case 'Uint8Array':
      return new Uint8Array(Buffer.from(v as string, 'base64'));
    case 'Map':
      return new Map(v as Array<[unknown, unknown]>);
    case 'Set':
      return new Set(v as unknown[]);
    case 'BigInt':
      return BigInt(v as string);
    case 'Number':
      return Number(v);
    case 'Object':
      return Object.fromEntries(v as Array<[string, unknown]>);
    default:
      return value;
  }
}

/**
 * JSON, extended so that what a cache user stores comes back as it went in: Date, Map, Set, BigInt,
 * Buffer, Uint8Array, NaN and ±Infinity round-trip. Like JSON, object properties holding `undefined`
 * are dropped and class instances come back as plain objects (through their toJSON when they have
 * one). Functions, symbols and circular structures are refused with a SerializationError.
 */
export function serializeValue(key: string, value: unknown, serializer?: ValueSerializer): SerializedPayload {
  if (value === undefined) {
    throw new SerializationError(key, 'the value is undefined, which reads back as a miss; delete the key instead');
  }
  if (value instanceof Uint8Array) {
    // A copy: the memory tier keeps these bytes, and the caller may reuse its buffer after `set`.
    return { bytes: new Uint8Array(value), format: Buffer.isBuffer(value) ? PayloadFormat.Buffer : PayloadFormat.Uint8Array };
  }
  if (serializer !== undefined) return serializeWith(serializer, key, value);
  // JSON.stringify calls a replacer once per property, which doubles its time; a value made only
  // of what JSON holds as it is needs none.
  if (isPlainJson(value, 0)) return { bytes: Buffer.from(JSON.stringify(value), 'utf8'), format: PayloadFormat.Json };
  taggedDuringThisCall = false;
  keyBeingSerialized = key;
  let json: string;
  try {
    json = JSON.stringify(value, replacer);
  } catch (error) {
    if (error instanceof SerializationError) throw error;
    throw new SerializationError(key, `JSON cannot represent the value (${(error as Error).message})`, { cause: error });
  }
  return { bytes: Buffer.from(json, 'utf8'), format: taggedDuringThisCall ? PayloadFormat.TaggedJson : PayloadFormat.Json };
}

/** Deeper than this, the replacer takes over: it also finds circular structures, which this walk does not follow. */
const PLAIN_DEPTH_LIMIT = 32;

/**
 * Whether plain JSON.stringify writes the value exactly as the replacer would: strings, booleans,
 * null, finite numbers, and arrays and plain objects of them. Anything else (a Date, a Map, a
 * class instance, NaN, a BigInt, a function, a key spelled like the tag) goes to the replacer.
 */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth === PLAIN_DEPTH_LIMIT) return false;
      if (Array.isArray(value)) {
        for (let index = 0; index < value.length; index++) if (!isPlainJson(value[index], depth + 1)) return false;
        return true;
      }
      const prototype = Object.getPrototypeOf(value);
      if ((prototype !== Object.prototype && prototype !== null) || Object.hasOwn(value, TAG) || Object.hasOwn(value, 'toJSON'))
        return false;
      for (const property in value) if (!isPlainJson((value as Record<string, unknown>)[property], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

function serializeWith(serializer: ValueSerializer, key: string, value: unknown): SerializedPayload {
  let bytes: unknown;
  try {
    bytes = serializer.serialize(value);
  } catch (error) {
    throw new SerializationError(key, `serializer "${serializer.name}" refused the value (${(error as Error).message})`, { cause: error });
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new SerializationError(key, `serializer "${serializer.name}" returned ${describeType(bytes)}, not a Uint8Array`);
  }
  return { bytes, format: PayloadFormat.Custom, serializer };
}

/** The value a payload holds, read back by the serializer that wrote it. */
export function readPayload(payload: SerializedPayload): unknown {
  return deserializeValue(payload.bytes, payload.format, payload.serializer);
}

/**
 * Throws (a SyntaxError for the built-in formats) on bytes that are not what this module wrote;
 * callers treat that as a foreign item.
 */
export function deserializeValue(bytes: Uint8Array, format: PayloadFormat, serializer?: ValueSerializer): unknown {
  switch (format) {
    case PayloadFormat.Custom:
      if (serializer === undefined) throw new SyntaxError('the item was written by a custom serializer and none is configured');
      return serializer.deserialize(bytes);
    // Copies, never views: the memory tier hands the same stored bytes to every read, and a reader
    // that changed a view would change what every later read returns.
    case PayloadFormat.Buffer:
      return Buffer.from(bytes);
    case PayloadFormat.Uint8Array:
      return new Uint8Array(bytes);
    case PayloadFormat.TaggedJson:
      return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), reviver);
    case PayloadFormat.Json:
      return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    default:
      throw new SyntaxError(`unknown payload format ${String(format)}`);
  }
}
