import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CACHE_DEFAULTS } from '../../src/cache/cache-options.js';
import { MODULE_DEFAULTS } from '../../src/nest/dynamo-cache.module-definition.js';
import { STORE_DEFAULTS } from '../../src/store/store-options.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Every option of forRoot that has a default, as the code resolves it. */
const DEFAULTS: Record<string, unknown> = { ...STORE_DEFAULTS, ...CACHE_DEFAULTS, ...MODULE_DEFAULTS };

/** Cells that say there is no default value. */
const NO_DEFAULT = new Set(['none', '—', 'discovered', 'SDK defaults', 'off', 'built-in JSON']);
/** Options whose default the table describes in words, being computed: the table name, the logger, the cache id. */
const DESCRIBED = new Set(['tableName', 'logger', 'cacheId']);
const IN_WORDS = Symbol('described in words');

const SIZE_UNITS: Record<string, number> = { KB: 1024, MiB: 1024 * 1024 };

/** Splits on the commas that are not inside braces or backticks. */
function topLevelParts(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const char of text) {
    if (char === '`') quoted = !quoted;
    if (!quoted && char === '{') depth++;
    if (!quoted && char === '}') depth--;
    if (char === ',' && depth === 0 && !quoted) {
      parts.push(current.trim());
      current = '';
    } else current += char;
  }
  return [...parts, current.trim()];
}

/** A value as the table writes it: `10000`, `'dc'`, `false`, `64 MiB`, `{ maxEntries: 10000, ... }`. */
function literal(text: string): unknown {
  const value = text.trim();
  const size = /^(\d+(?:\.\d+)?) (KB|MiB)$/.exec(value);
  if (size) return Number(size[1]) * SIZE_UNITS[size[2]!]!;
  if (/^-?\d[\d_]*(\.\d+)?$/.test(value)) return Number(value.replaceAll('_', ''));
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^'.*'$/.test(value)) return value.slice(1, -1);
  if (value.startsWith('{') && value.endsWith('}')) {
    return Object.fromEntries(
      topLevelParts(value.slice(1, -1)).map((field) => {
        const [name, ...rest] = field.split(':');
        return [name!.trim(), literal(rest.join(':'))];
      }),
    );
  }
  throw new Error(`README options table: cannot read the value ${JSON.stringify(value)}`);
}

/** A default cell: the first backticked value, a size, a word for "none", or words describing a computed default. */
function defaultOf(cell: string): unknown {
  const backticked = /^`([^`]+)`/.exec(cell);
  if (backticked) return literal(backticked[1]!);
  if (/^\d+(?:\.\d+)? (KB|MiB)$/.test(cell)) return literal(cell);
  if (NO_DEFAULT.has(cell)) return undefined;
  return IN_WORDS;
}

/** The rows of the table under `## Options`: each option named in a row, with its default as written. */
function optionsTable(): Map<string, unknown> {
  const section = README.split(/^## Options$/m)[1]!.split(/^## /m)[0]!;
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  const table = new Map<string, unknown>();
  for (const row of rows) {
    const [names, defaults] = row
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim());
    const options = [...names!.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
    const cells = options.length > 1 ? topLevelParts(defaults!) : [defaults!];
    options.forEach((option, index) => table.set(option, defaultOf(cells.length === options.length ? cells[index]! : defaults!)));
  }
  return table;
}

describe("README's options table", () => {
  const table = optionsTable();

  it('is found, with a row for each option of forRoot', () => {
    expect(table.size).toBeGreaterThan(30);
    expect(table.get('operationTimeout')).toBe(2_000);
  });

  it('names every option that has a default in the code', () => {
    expect(Object.keys(DEFAULTS).filter((option) => !table.has(option))).toEqual([]);
  });

  it('writes the default the code resolves, for every option it lists', () => {
    const disagreements = [...table].flatMap(([option, written]) => {
      if (written === IN_WORDS) return DESCRIBED.has(option) ? [] : [`${option}: "${String(written.description)}" is no value`];
      return isDeepStrictEqual(written, plain(DEFAULTS[option]))
        ? []
        : [`${option}: README says ${JSON.stringify(written)}, the code ${JSON.stringify(DEFAULTS[option])}`];
    });
    expect(disagreements).toEqual([]);
  });
});

/** A frozen defaults object compared as the plain object the table writes. */
function plain(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? { ...value } : value;
}
