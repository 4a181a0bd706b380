// Renders each docs/diagrams/*.dot to the .svg beside it (`npm run docs:diagrams`), with Graphviz
// compiled to WebAssembly (@hpcc-js/wasm-graphviz): no browser, no system Graphviz, and the same
// bytes on every machine, so that the .svg is committed and a test can compare it with its source.
// `node scripts/render-diagrams.mjs [--check] [folder]`: with --check it writes nothing, and exits 1
// naming each .svg that differs from what its .dot renders now.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { argv, exit, stderr, stdout } from 'node:process';
import { Graphviz } from '@hpcc-js/wasm-graphviz';

const check = argv.includes('--check');
const folder = argv.slice(2).find((argument) => argument !== '--check') ?? 'docs/diagrams';
const graphviz = await Graphviz.load();
const drifted = [];
for (const source of (await readdir(folder)).filter((name) => name.endsWith('.dot')).sort()) {
  const picture = join(folder, source.replace(/\.dot$/, '.svg'));
  const rendered = graphviz.dot(await readFile(join(folder, source), 'utf8'));
  // A checkout that turned line endings into CRLF holds the same picture.
  const committed = await readFile(picture, 'utf8').then(
    (text) => text.replace(/\r\n/g, '\n'),
    () => undefined,
  );
  if (committed === rendered) continue;
  if (check) {
    drifted.push(picture);
  } else {
    await writeFile(picture, rendered);
    stdout.write(`rendered ${picture}\n`);
  }
}
if (drifted.length > 0) {
  stderr.write(`${drifted.join(', ')}: not what the .dot beside it renders now. Run npm run docs:diagrams and commit the .svg.\n`);
  exit(1);
}
