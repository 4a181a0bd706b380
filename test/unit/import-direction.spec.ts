import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Which of our folders each folder must never import: imports run nest/, session/ → cache/ → store/. */
const FORBIDDEN: Record<string, readonly string[]> = {
  store: ['cache', 'nest', 'session', 'observability', 'backplane'],
  cache: ['nest', 'session', 'observability'],
};

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Every module a file imports or re-exports (static or dynamic), as written. */
function importedPaths(source: string): string[] {
  const specifiers = source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g);
  return [...specifiers].map((match) => match[1] ?? match[2]!);
}

/** The top folder under src/ that a relative import lands in, or undefined for a package. */
function folderOf(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return relative(SRC, resolve(dirname(file), specifier)).split(/[\\/]/)[0];
}

function crossings(folder: string): string[] {
  const forbidden = FORBIDDEN[folder]!;
  return sourceFiles(join(SRC, folder)).flatMap((file) =>
    importedPaths(readFileSync(file, 'utf8'))
      .filter((specifier) => forbidden.includes(folderOf(file, specifier) ?? ''))
      .map((specifier) => `${relative(SRC, file)} imports ${specifier}`),
  );
}

describe('imports run one way between the folders of src/', () => {
  it('finds the imports it checks (a parser that saw none would pass anything)', () => {
    const storeImports = sourceFiles(join(SRC, 'store')).flatMap((file) => importedPaths(readFileSync(file, 'utf8')));
    expect(storeImports).toContain('./errors.js');
    expect(folderOf(join(SRC, 'cache', 'x.ts'), '../nest/y.js')).toBe('nest');
  });

  it('store/ imports nothing of cache/, nest/, session/, observability/ or backplane/', () => {
    expect(crossings('store')).toEqual([]);
  });

  it('cache/ imports nothing of nest/, session/ or observability/', () => {
    expect(crossings('cache')).toEqual([]);
  });
});
