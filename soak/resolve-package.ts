import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The soak build compiles the library's sources beside the sample, so that it needs no `npm run
 * build` (whose dist/ other tests may be writing at the same time). The sample imports the library
 * by its package name, as an app would: this shim package, in the build's own node_modules, points
 * that name at the compiled sources. The build gets a package.json of its own, or Node would resolve
 * the name to the repository's package itself (self-reference), that is to dist/.
 */
export async function linkPackageToSources(buildDirectory: string): Promise<void> {
  await writeFile(
    join(buildDirectory, 'package.json'),
    JSON.stringify({ name: 'nest-dynamo-cache-soak-build', private: true, type: 'module' }),
  );
  const shim = join(buildDirectory, 'node_modules', 'nest-dynamo-cache');
  await mkdir(shim, { recursive: true });
  const exports: Record<string, string> = { '.': './index.js' };
  await writeFile(join(shim, 'index.js'), "export * from '../../src/index.js';\n");
  // Each subpath (`nest-dynamo-cache/store`, …) is a file of src/entries, as in package.json's exports.
  const subpaths = (await readdir(join(buildDirectory, 'src/entries')))
    .filter((name) => name.endsWith('.js'))
    .map((name) => name.slice(0, -3));
  for (const subpath of subpaths) {
    exports[`./${subpath}`] = `./${subpath}.js`;
    await writeFile(join(shim, `${subpath}.js`), `export * from '../../src/entries/${subpath}.js';\n`);
  }
  await writeFile(join(shim, 'package.json'), JSON.stringify({ name: 'nest-dynamo-cache', type: 'module', exports }));
}
