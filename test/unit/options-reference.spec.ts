import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

// The options reference is written from the option types' doc comments and the defaults objects
// (scripts/options-reference.mjs); these specs run that script as `npm run docs:options` does.
const SCRIPT = fileURLToPath(new URL('../../scripts/options-reference.mjs', import.meta.url));
const REFERENCE = new URL('../../docs/reference/options.md', import.meta.url);

interface Report {
  readonly markdown: string;
  readonly problems: readonly string[];
}

describe('the options reference (docs/reference/options.md)', () => {
  let report: Report;

  beforeAll(() => {
    report = JSON.parse(execFileSync(process.execPath, [SCRIPT, '--report'], { encoding: 'utf8' })) as Report;
  }, 60_000);

  it('is what the doc comments and defaults objects make now', () => {
    const committed = readFileSync(REFERENCE, 'utf8').split('\n');
    const now = report.markdown.split('\n');
    const line = now.findIndex((text, index) => committed[index] !== text);
    const stale =
      line === -1 && committed.length === now.length
        ? ''
        : `docs/reference/options.md is out of date with the option types or the defaults: run \`npm run docs:options\` and commit it. ` +
          `First difference, line ${line + 1}:\n  committed: ${committed[line] ?? '(end of file)'}\n  now:       ${now[line] ?? '(end of file)'}`;
    expect(stale).toBe('');
  });

  it('has a doc comment for every option of the public options types', () => {
    expect(report.problems.filter((problem) => problem.includes('has no doc comment'))).toEqual([]);
  });

  it('lists every public options type and every default, each default written once, durations in ms', () => {
    expect(report.problems.filter((problem) => !problem.includes('has no doc comment'))).toEqual([]);
  });
});
