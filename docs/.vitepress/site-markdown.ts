import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import type { MarkdownOptions } from 'vitepress';
import { NOT_YET_MERGED } from './not-yet-merged.js';

type MarkdownIt = Parameters<NonNullable<MarkdownOptions['config']>>[0];
type Token = ReturnType<MarkdownIt['parse']>[number];

/**
 * A heading's anchor as GitHub makes it (github-slugger): lower case, every character that is not a
 * letter, digit, mark, `_`, `-` or space dropped, spaces made hyphens. The site uses it too, so that one
 * `#anchor` works on GitHub and on the site (VitePress's own rule turns `@nestjs/cache-manager` into
 * `nestjs-cache-manager`, GitHub into `nestjscache-manager`).
 */
export function headingSlug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** `headingSlug` for each heading of a page in order, with GitHub's and VitePress's `-1`, `-2` for repeats. */
export function uniqueSlugs(headings: readonly string[]): string[] {
  const seen = new Set<string>();
  return headings.map((heading) => {
    const slug = headingSlug(heading);
    let unique = slug;
    for (let n = 1; seen.has(unique); n++) unique = `${slug}-${n}`;
    seen.add(unique);
    return unique;
  });
}

/** The repository's address on GitHub, from package.json's `repository`, if it has one. */
function repositoryUrl(root: string): string | undefined {
  const { repository } = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
    repository?: string | { url?: string };
  };
  const url = typeof repository === 'string' ? repository : repository?.url;
  return url
    ?.replace(/^git\+/, '')
    .replace(/^github:/, 'https://github.com/')
    .replace(/\.git$/, '');
}

/**
 * The guides link to the repository's own files (`../bench/README.md`, `../sample/`) and embed a few of its
 * images, which is right on GitHub. On the site, a link that leaves docs/ goes to the file on GitHub when
 * package.json names the repository, else it stays as written and out of VitePress's dead-link check (the link
 * test checks it); an image of NOT_YET_MERGED that is not there yet shows its alt text.
 */
export function repositoryLinks(md: MarkdownIt, srcDir: string): void {
  const root = resolve(srcDir, '..');
  const repository = repositoryUrl(root);
  /** A relative target's path from the repository's root (`bench/README.md`); undefined for a URL or an anchor. */
  const inRepository = (page: string, target: string): string | undefined =>
    /^([a-z][a-z\d+.-]*:|#|\/)/i.test(target)
      ? undefined
      : relative(root, resolve(dirname(page), target.replace(/[?#].*$/, '')))
          .split(sep)
          .join('/');
  md.core.ruler.push('repository_links', (state) => {
    const env = state.env as { realPath?: string; path: string };
    const page = env.realPath ?? env.path;
    const visit = (tokens: Token[]): void => {
      for (const [index, token] of tokens.entries()) {
        if (token.children) visit(token.children);
        if (token.type !== 'link_open' && token.type !== 'image') continue;
        const target = token.attrGet(token.type === 'image' ? 'src' : 'href') ?? '';
        const path = inRepository(page, target);
        if (path === undefined) continue;
        // docs/README.md is the site's index page (config.ts rewrites it to index.md).
        if (token.type === 'link_open' && path === 'docs/README.md') token.attrSet('href', target.replace(/README\.md/, 'index.md'));
        if (token.type === 'link_open' && !path.startsWith('docs/')) {
          if (repository) token.attrSet('href', `${repository}/blob/HEAD/${path}${target.replace(/^[^#]*/, '')}`);
          else token.attrSet('target', '_self');
        }
        if (token.type === 'image' && NOT_YET_MERGED.includes(path) && !existsSync(resolve(root, path))) {
          const alt = new state.Token('text', '', 0);
          alt.content = `[${token.content}]`;
          tokens[index] = alt;
        }
      }
    };
    visit(state.tokens);
  });
}
