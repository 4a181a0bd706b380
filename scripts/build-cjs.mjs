// The CommonJS half of the package: tsc compiles src/ again with `module: CommonJS` into a scratch
// folder, and this script writes it to dist/cjs as .cjs and .d.cts, with the relative specifiers
// (`require("./x.js")`, `from "./x.js"`) renamed to match (no source maps: tsconfig.build.json). Why not a bundler:
// esbuild-based ones drop the decorators' emitDecoratorMetadata, which Nest's injection reads. Why
// renamed files and not a dist/cjs/package.json saying "commonjs": TypeScript then reads .d.cts as
// CommonJS declarations whatever a consumer's tools make of nested package.json files. Why a
// scratch folder beside dist/cjs: `npm pack` (in the package test) builds while other tools may
// read dist/cjs.
// tsconfig.build.cjs.json resolves with `moduleResolution: Bundler`: beside `module: CommonJS`,
// TypeScript 6 deprecates node10 and refuses Node16 (which wants `module: Node16`).
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { execPath } from 'node:process';

const out = 'dist/cjs';
const scratch = await mkdtemp('dist/.cjs-');
try {
  execFileSync(execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.cjs.json', '--outDir', scratch], {
    stdio: 'inherit',
  });
  const files = (await readdir(scratch, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
  await rm(out, { recursive: true, force: true });
  for (const file of files) {
    const from = join(file.parentPath, file.name);
    const to = join(out, relative(scratch, from))
      .replace(/\.js$/, '.cjs')
      .replace(/\.d\.ts$/, '.d.cts');
    await mkdir(dirname(to), { recursive: true });
    await writeFile(to, rename(await readFile(from, 'utf8')));
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}

/** `./x.js` and `../y/x.js` become `.cjs`, in quotes (require, import, import() types). */
function rename(text) {
  return text.replace(/(["'])(\.\.?\/[^"']*)\.js\1/g, '$1$2.cjs$1');
}
