import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIAGRAMS = join(ROOT, 'docs/diagrams');
const SCRIPT = join(ROOT, 'scripts/render-diagrams.mjs');

/** `npm run docs:diagrams` (with `--check`: writes nothing), its exit code and what it said. */
async function render(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [SCRIPT, ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('docs/diagrams: each .svg is what its .dot renders', () => {
  const scratch: string[] = [];
  afterAll(() => Promise.all(scratch.map((folder) => rm(folder, { recursive: true, force: true }))));

  it('holds the committed pictures the guides link to, each the rendering of its source as it is now', async () => {
    const files = await readdir(DIAGRAMS);
    expect(files).toEqual(expect.arrayContaining(['tiers.dot', 'tiers.svg', 'get-or-set.dot', 'get-or-set.svg']));
    const { code, stderr } = await render('--check', DIAGRAMS);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('fails naming a picture that drifted from its source, or is missing, and writes nothing', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'diagrams-'));
    scratch.push(folder);
    await copyFile(join(DIAGRAMS, 'tiers.dot'), join(folder, 'tiers.dot'));
    const stale = (await readFile(join(DIAGRAMS, 'tiers.svg'), 'utf8')).replace('Two tiers and a backplane', 'Two tiers');
    await writeFile(join(folder, 'tiers.svg'), stale);
    await writeFile(join(folder, 'new.dot'), 'digraph { a -> b }');

    const { code, stderr } = await render('--check', folder);
    expect(code).toBe(1);
    expect(stderr).toContain(`${join(folder, 'new.svg')}, ${join(folder, 'tiers.svg')}: not what the .dot beside it renders now`);
    expect(await readdir(folder)).toEqual(['new.dot', 'tiers.dot', 'tiers.svg']);

    expect((await render(folder)).code).toBe(0);
    expect(await render('--check', folder)).toMatchObject({ code: 0, stderr: '' });
  });

  it('paints each picture on white, so that it reads the same in a light or a dark theme', async () => {
    for (const name of (await readdir(DIAGRAMS)).filter((file) => file.endsWith('.svg'))) {
      const svg = await readFile(join(DIAGRAMS, name), 'utf8');
      // Graphviz's first shape is the graph's background, as large as the picture.
      expect(svg.match(/<polygon [^>]*>/)?.[0], name).toMatch(/^<polygon fill="white" stroke="none"/);
    }
  });
});
