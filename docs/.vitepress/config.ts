import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitepress';
import { NOT_YET_MERGED } from './not-yet-merged.js';
import { headingSlug, repositoryLinks } from './site-markdown.js';

// VitePress, for a site built from the same markdown files GitHub shows: markdown first (no page needs a
// component), local search built in (no service to sign up to), and Vue and Vite, which the Nest tool chain
// already leans on. `npm run docs:build` writes docs/.vitepress/dist; `npm run docs:dev` serves it as you edit.
const srcDir = fileURLToPath(new URL('..', import.meta.url));

/** A sidebar entry for a page that is there (the options reference comes from another branch). */
const page = (text: string, file: string) => (existsSync(`${srcDir}/${file}.md`) ? [{ text, link: `/${file}` }] : []);

/** A sidebar group from its pages' titles and links. */
const section = (text: string, pages: Array<[title: string, link: string]>) => ({
  text,
  items: pages.map(([title, link]) => ({ text: title, link })),
});

/** Pages of NOT_YET_MERGED still missing, as VitePress writes a link to one (`./reference/options`). */
const missingPages = NOT_YET_MERGED.filter((path) => /^docs\/.*\.md$/.test(path) && !existsSync(`${srcDir}/../${path}`)).map((path) =>
  path.slice('docs/'.length, -'.md'.length),
);

export default defineConfig({
  title: 'nest-dynamo-cache',
  description: 'A distributed cache for NestJS, kept in Amazon DynamoDB.',
  // docs/README.md is the index on GitHub and the home page here.
  rewrites: { 'README.md': 'index.md' },
  cleanUrls: true,
  // The API reference is TypeDoc's HTML (npm run docs:api, into docs/public/api/), not a page VitePress knows.
  ignoreDeadLinks: [/^\/api\//, (url) => missingPages.some((page) => url.endsWith(page))],
  markdown: {
    anchor: { slugify: headingSlug },
    config: (md) => repositoryLinks(md, srcDir),
  },
  themeConfig: {
    search: { provider: 'local' },
    outline: [2, 3],
    nav: [
      { text: 'Guides', link: '/' },
      { text: 'API', link: '/api/', target: '_self' },
    ],
    sidebar: [
      section('Start', [
        ['Overview', '/'],
        ['Getting started', '/getting-started'],
        ['Coming from @nestjs/cache-manager', '/migrating-from-cache-manager'],
      ]),
      section('Use', [
        ['The cache API', '/cache-api'],
        ['Get-or-set', '/get-or-set'],
        ['Decorators', '/decorators'],
        ['Tags and clear()', '/tags'],
        ['Named caches', '/named-caches'],
        ['Sessions', '/sessions'],
        ['Memory-only mode in tests', '/testing'],
      ]),
      section('Run', [
        ['The memory tier and the backplane', '/memory-and-backplane'],
        ['When DynamoDB fails', '/failures'],
        ['The consistency model', '/consistency'],
        ['The table, IAM and infrastructure', '/table-and-iam'],
        ['Observability', '/observability'],
        ['Performance', '/performance'],
        ['Node.js and module formats', '/module-formats'],
      ]),
      {
        text: 'Reference',
        items: [
          ...page('Options', 'reference/options'),
          { text: 'API (TypeDoc)', link: '/api/', target: '_self' },
          { text: 'Architecture', link: '/architecture' },
          { text: 'Glossary', link: '/glossary' },
        ],
      },
    ],
  },
});
