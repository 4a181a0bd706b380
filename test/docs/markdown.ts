import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { uniqueSlugs } from '../../docs/.vitepress/site-markdown.js';

/** The repository's root. */
export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * README.md, every page under docs/ (not the site's build output, nor TypeDoc's), and the READMEs of the
 * folders users copy from (infra/, dashboards/): their examples and links are documentation too.
 */
export function documentationFiles(): string[] {
  const docs = join(ROOT, 'docs');
  const pages = readdirSync(docs, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.md'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => !/^(\.vitepress|public|node_modules)$/.test(relative(docs, file).split(/[\\/]/)[0]!));
  const folderGuides = ['infra/README.md', 'dashboards/README.md'].map((path) => join(ROOT, path));
  return [join(ROOT, 'README.md'), ...pages.sort(), ...folderGuides];
}

/** A fenced code block: its language, its text and the line (1-based) of its opening fence. */
export interface CodeBlock {
  language: string;
  code: string;
  /** The line of the opening fence; the code's first line is the next one. */
  line: number;
  /** What the HTML comment right before the fence says, e.g. `not-compiled: a shell session`. */
  marker?: string;
}

/** A markdown page split into what the checks read. */
export interface Page {
  file: string;
  blocks: CodeBlock[];
  /** Every heading's anchor, as GitHub and the site make them. */
  anchors: Set<string>;
  /** Every link and image target outside code, with its line. */
  links: { target: string; line: number }[];
}

/** Inline code spans blanked out (``a `b` c`` keeps its length), so that code never reads as a link. */
function withoutCodeSpans(line: string): string {
  return line.replace(/(`+)([^`]|(?!\1)`)*?\1/g, (span) => ' '.repeat(span.length));
}

/** A heading's text as rendered: code spans' contents, links' texts, no emphasis markers. */
function headingText(markdown: string): string {
  return markdown
    .replace(/(`+)(.*?)\1/g, '$2')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\*\*?|(?<!\w)_|_(?!\w)/g, '')
    .trim();
}

export function readPage(file: string): Page {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  const headings: string[] = [];
  const links: Page['links'] = [];
  let fence: { marker: string; indent: number; block: CodeBlock } | undefined;
  let lastNonBlank = '';
  for (const [index, line] of lines.entries()) {
    if (fence) {
      if (line.trim().startsWith(fence.marker) && line.trim().replace(/[`~]/g, '') === '') {
        blocks.push(fence.block);
        fence = undefined;
      } else fence.block.code += `${line.slice(Math.min(fence.indent, line.length - line.trimStart().length))}\n`;
      continue;
    }
    const opening = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(line);
    if (opening) {
      const marker = /^<!--\s*(.*?)\s*-->$/.exec(lastNonBlank.trim())?.[1];
      fence = { marker: opening[2]!, indent: opening[1]!.length, block: { language: opening[3]!, code: '', line: index + 1, marker } };
      continue;
    }
    if (line.trim()) lastNonBlank = line;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) headings.push(headingText(heading[1]!));
    const text = withoutCodeSpans(line);
    const targets = [
      ...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g),
      ...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g),
      ...text.matchAll(/\s(?:href|src)="([^"]+)"/g),
    ];
    for (const match of targets) links.push({ target: match[1]!, line: index + 1 });
  }
  return { file, blocks, anchors: new Set(uniqueSlugs(headings)), links };
}
