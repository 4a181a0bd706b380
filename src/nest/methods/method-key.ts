/**
 * A provider method's arguments as the text of its default key, or why they have none.
 *
 * Two calls share a key only when their arguments are equal as data. JSON.stringify is not that:
 * it writes every Set and Map as `{}` (so `new Set(['guest'])` got the answer for `new Set(['admin'])`),
 * `undefined` as `null` or nothing, functions as nothing, keeps object keys in their order (so
 * `{a, b}` and `{b, a}` missed each other) and throws on a BigInt. Here each kind of value has a
 * form of its own that no other value can spell: strings quoted, BigInts with `n`, `Date(ms)`,
 * `Set{…}` and `Map{…}` with their contents sorted, bytes in base64 under their type's name, object
 * keys sorted. What cannot be told apart by its data (a function, a symbol, a class instance, a
 * cycle) has no key, and the call goes uncached rather than risk one caller getting another's answer.
 */
export type ArgumentsKey = { readonly key: string; readonly unencodable?: undefined } | { readonly unencodable: string };

export function argumentsKey(args: readonly unknown[]): ArgumentsKey {
  // `f(x)` and `f(x, undefined)` are the same call to any function that declares its parameters.
  let length = args.length;
  while (length > 0 && args[length - 1] === undefined) length--;
  try {
    return { key: encodeList(args.slice(0, length), 'arguments', new Set(), 0) };
  } catch (error) {
    if (error instanceof Unencodable) return { unencodable: error.message };
    throw error;
  }
}

class Unencodable extends Error {}

// Deeper than any real argument; the limit turns a stack overflow into a reason.
const MAX_DEPTH = 100;

// Built-in byte containers, by constructor: a subclass of one is a class instance like any other.
const BYTE_VIEWS: ReadonlySet<unknown> = new Set([
  Buffer,
  Uint8Array,
  Uint8ClampedArray,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
  BigUint64Array,
  BigInt64Array,
  DataView,
]);

function encode(value: unknown, path: string, ancestors: Set<object>, depth: number): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'boolean':
      return String(value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'string':
      // JSON escapes quotes, controls and lone surrogates, so the quoted form ends where it seems to.
      return JSON.stringify(value);
    case 'function':
      throw new Unencodable(`${path} is a function`);
    case 'symbol':
      throw new Unencodable(`${path} is a symbol`);
  }
  if (value === null) return 'null';
  const object = value as object;
  if (depth >= MAX_DEPTH) throw new Unencodable(`${path} is nested more than ${MAX_DEPTH} levels deep`);
  if (ancestors.has(object)) throw new Unencodable(`${path} is circular`);
  ancestors.add(object);
  try {
    return encodeObject(object, path, ancestors, depth);
  } finally {
    ancestors.delete(object);
  }
}

function encodeObject(object: object, path: string, ancestors: Set<object>, depth: number): string {
  const prototype = Object.getPrototypeOf(object) as object | null;
  if (prototype === Array.prototype) return encodeList(object as unknown[], path, ancestors, depth + 1);
  if (prototype === Date.prototype) return `Date(${(object as Date).getTime()})`;
  if (prototype === Set.prototype) {
    const members = [...(object as Set<unknown>)].map((member) => encode(member, `${path} (a member)`, ancestors, depth + 1));
    return `Set{${members.sort().join(',')}}`;
  }
  if (prototype === Map.prototype) {
    const entries = [...(object as Map<unknown, unknown>)].map(([key, entry]) => {
      const encodedKey = encode(key, `${path} (a key)`, ancestors, depth + 1);
      return `${encodedKey}=>${encode(entry, `${path}.get(${encodedKey})`, ancestors, depth + 1)}`;
    });
    return `Map{${entries.sort().join(',')}}`;
  }
  if (prototype === ArrayBuffer.prototype) return `ArrayBuffer(${Buffer.from(object as ArrayBuffer).toString('base64')})`;
  if (ArrayBuffer.isView(object) && BYTE_VIEWS.has(object.constructor)) {
    return `${object.constructor.name}(${Buffer.from(object.buffer, object.byteOffset, object.byteLength).toString('base64')})`;
  }
  if (prototype === Object.prototype || prototype === null) {
    if (Object.getOwnPropertySymbols(object).some((symbol) => Object.prototype.propertyIsEnumerable.call(object, symbol))) {
      throw new Unencodable(`${path} has a symbol key`);
    }
    const fields = Object.keys(object)
      .sort()
      .map(
        (name) => `${JSON.stringify(name)}:${encode((object as Record<string, unknown>)[name], `${path}.${name}`, ancestors, depth + 1)}`,
      );
    return `{${fields.join(',')}}`;
  }
  const className = (object as { constructor?: { name?: string } }).constructor?.name || 'class';
  throw new Unencodable(`${path} is a ${className} instance, whose fields need not say which answer it asks for`);
}

/** `[a,b]`; a hole stays empty (`[,b]`), apart from an `undefined` in its place. */
function encodeList(list: readonly unknown[], path: string, ancestors: Set<object>, depth: number): string {
  const items: string[] = [];
  for (let index = 0; index < list.length; index++)
    items.push(index in list ? encode(list[index], `${path}[${index}]`, ancestors, depth) : '');
  // Properties beside the elements (`list.total = 3`) are data the method may read: keyed too, sorted.
  const extra = Object.keys(list)
    .filter((name) => !isIndex(name, list.length))
    .sort();
  const named = extra.map(
    (name) => `${JSON.stringify(name)}:${encode((list as unknown as Record<string, unknown>)[name], `${path}.${name}`, ancestors, depth)}`,
  );
  return named.length === 0 ? `[${items.join(',')}]` : `[${items.join(',')}|${named.join(',')}]`;
}

function isIndex(name: string, length: number): boolean {
  const index = Number(name);
  return Number.isInteger(index) && index >= 0 && index < length && String(index) === name;
}
