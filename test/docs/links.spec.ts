import { existsSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NOT_YET_MERGED } from '../../docs/.vitepress/not-yet-merged.js';
import { documentationFiles, readPage, ROOT, type Page } from './markdown.js';

/** Site paths that are built, not written: TypeDoc's API reference (npm run docs:api, into docs/public/api/). */
const BUILT_PATHS = ['/api/'];

const pages = new Map<string, Page>(documentationFiles().map((file) => [file, readPage(file)]));
const pageOf = (file: string): Page => pages.get(file) ?? readPage(file);

/** What is wrong with a link of `page`, or undefined when it leads somewhere. */
function brokenLink(page: Page, target: string): string | undefined {
  if (/^[a-z][a-z\d+.-]*:/i.test(target)) return undefined; // https:, mailto:
  if (target.startsWith('/')) return BUILT_PATHS.includes(target) ? undefined : 'a site path: link to the file instead';
  const [path = '', anchor] = target.split('#');
  const file = path === '' ? page.file : resolve(dirname(page.file), decodeURIComponent(path));
  const repositoryPath = relative(ROOT, file).split('\\').join('/');
  if (!existsSync(file)) return NOT_YET_MERGED.includes(repositoryPath) ? undefined : `${repositoryPath} does not exist`;
  if (anchor === undefined || !file.endsWith('.md') || statSync(file).isDirectory()) return undefined;
  return pageOf(file).anchors.has(anchor) ? undefined : `${repositoryPath} has no heading #${anchor}`;
}

describe('the links of README.md and docs/', () => {
  it('lead to files that exist and to headings that exist (GitHub slug rules, which the site uses too)', () => {
    const broken = [...pages.values()].flatMap((page) =>
      page.links.flatMap(({ target, line }) => {
        const problem = brokenLink(page, target);
        return problem ? [`${relative(ROOT, page.file)}:${line}: ${target}: ${problem}`] : [];
      }),
    );
    expect(broken).toEqual([]);
  });

  it('reach the guides from README.md, and every guide from docs/README.md', () => {
    const linked = (file: string) =>
      new Set(
        pageOf(file)
          .links.map(({ target }) => resolve(dirname(file), target.split('#')[0]!))
          .filter((path) => path.endsWith('.md')),
      );
    const index = linked(resolve(ROOT, 'docs/README.md'));
    const guides = [...pages.keys()].filter((file) => file.startsWith(resolve(ROOT, 'docs')) && !file.endsWith('docs/README.md'));
    expect(guides.filter((file) => !index.has(file)).map((file) => relative(ROOT, file))).toEqual([]);
    expect(linked(resolve(ROOT, 'README.md')).has(resolve(ROOT, 'docs/README.md'))).toBe(true);
  });

  it('list as not yet merged only files that are still missing (empty the list once they are merged)', () => {
    expect(NOT_YET_MERGED.filter((path) => existsSync(resolve(ROOT, path)))).toEqual([]);
  });
});
