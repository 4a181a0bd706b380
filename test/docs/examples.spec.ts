import { beforeAll, describe, expect, it } from 'vitest';
import { checkExamples, type ExampleCheck } from './example-checker.js';
import { documentationFiles, ROOT } from './markdown.js';

const FIXTURE = `${ROOT}/test/docs/fixtures/examples.md`;

// One TypeScript program for the pages and the fixture: building it is most of the time.
let check: ExampleCheck;
beforeAll(() => {
  check = checkExamples([...documentationFiles(), FIXTURE]);
}, 120_000);

const inFixture = (at: string) => at.startsWith('test/docs/fixtures/');

describe('the TypeScript examples of README.md and docs/', () => {
  it('compile against the package, each error naming the page and line', () => {
    const compiled = [...check.compiled].filter(([page]) => !inFixture(page));
    const total = compiled.reduce((sum, [, count]) => sum + count, 0);
    console.info(`${total} TypeScript blocks compiled in ${compiled.length} pages`);
    expect(check.errors.filter(({ at }) => !inFixture(at)).map(({ at, message }) => `${at}: ${message}`)).toEqual([]);
    expect(total).toBeGreaterThan(30);
  });

  it('say why when one is left out', () => {
    expect(check.skipped.filter(({ at }) => !inFixture(at)).every(({ reason }) => reason.length > 0)).toBe(true);
  });
});

describe('the examples checker', () => {
  it('fails a block that does not compile, naming the page and the line of the error', () => {
    const errors = check.errors.filter(({ at }) => inFixture(at));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.at).toBe('test/docs/fixtures/examples.md:14');
    expect(errors[0]!.message).toMatch(/^TS2345: Argument of type 'number' is not assignable to parameter of type 'string'/);
  });

  it('compiles class members inside a class, `…` as code left out, and leaves out a block marked not-compiled', () => {
    expect(check.compiled.get('test/docs/fixtures/examples.md')).toBe(3);
    expect(check.skipped.filter(({ at }) => inFixture(at))).toEqual([
      { at: 'test/docs/fixtures/examples.md:28', reason: 'the fixture says so' },
    ]);
  });
});
