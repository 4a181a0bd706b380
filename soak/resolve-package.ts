import { mkdir, writeFile } from 'node:fs/promises';
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
  await writeFile(join(shim, 'package.json'), JSON.stringify({ name: 'nest-dynamo-cache', type: 'module', exports: './index.js' }));
  await writeFile(join(shim, 'index.js'), "export * from '../../src/index.js';\n");
}
