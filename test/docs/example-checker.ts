import { basename, dirname, relative, resolve } from 'node:path';
import ts from 'typescript';
import { readPage, ROOT, type CodeBlock } from './markdown.js';

// Type-checks the TypeScript examples of markdown pages against the package's sources, in one program.
//
// Each ```ts block is a module of its own, as a reader would paste it into a file of an app:
// - what it uses and does not import (`Cacheable`, `Injectable`, `cache`, `buildReport`…) is imported for it,
//   from the package (`nest-dynamo-cache` and its subpaths, resolved to src/ by tsconfig's paths, so no build
//   is needed), from @nestjs/common, then from example-world.ts, which declares what the examples take as
//   given (an injected `cache`, an app's `buildReport`);
// - a block that is not a module but members of a class (a decorated method, say) is compiled inside one;
// - `…` standing for code left out is a comment;
// - a block preceded by `<!-- not-compiled: reason -->` is not compiled.

/** The modules whose exports a block may use without importing them, first come first served. */
const IMPLIED_MODULES = [
  'nest-dynamo-cache',
  'nest-dynamo-cache/store',
  'nest-dynamo-cache/session',
  'nest-dynamo-cache/observability',
  'nest-dynamo-cache/testing',
  '@nestjs/common',
  './example-world.js',
];

const WORLD = resolve(ROOT, 'test/docs/example-world.ts');
const LANGUAGES = new Set(['ts', 'typescript']);
/** TS1127, Invalid character: what the parser says of a `…` in code. */
const INVALID_CHARACTER = 1127;

export interface ExampleError {
  /** `docs/tags.md:42`: the page and the line of the markdown the error is on. */
  at: string;
  message: string;
}

export interface ExampleCheck {
  /** The blocks compiled, by page (relative to the repository). */
  compiled: Map<string, number>;
  /** The blocks left out by a `not-compiled` marker, with its reason. */
  skipped: { at: string; reason: string }[];
  errors: ExampleError[];
}

interface Example {
  page: string;
  block: CodeBlock;
  /** The virtual file the block is compiled as. */
  fileName: string;
  /** Lines put before the block's first line. */
  offset: number;
  text: string;
}

/** `…` where it stands for code (not in a comment or a string) made a comment, so that the block parses. */
function ellipsesAsComments(code: string): string {
  // The parser, not a bare scanner, tells code from template literals: each pass replaces the `…` it reports.
  for (let text = code; ;) {
    const positions = parseErrors('block.ts', text)
      .filter((diagnostic) => diagnostic.code === INVALID_CHARACTER && text[diagnostic.start] === '…')
      .map(({ start }) => start);
    if (positions.length === 0) return text;
    text = positions.reduceRight((changed, at) => `${changed.slice(0, at)}/*…*/${changed.slice(at + 1)}`, text);
  }
}

function parseErrors(fileName: string, text: string): { code: number; start: number }[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  return (source as unknown as { parseDiagnostics: { code: number; start: number }[] }).parseDiagnostics;
}

function parses(fileName: string, text: string): boolean {
  return parseErrors(fileName, text).length === 0;
}

/** The names a block declares or imports at its top level, and every name it mentions. */
function namesOf(text: string): { declared: Set<string>; mentioned: Set<string> } {
  const source = ts.createSourceFile('block.ts', text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const declared = new Set<string>();
  const mentioned = new Set<string>();
  const bind = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) declared.add(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name);
  };
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (clause?.name) declared.add(clause.name.text);
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) declared.add(bindings.name.text);
      if (bindings && ts.isNamedImports(bindings)) for (const element of bindings.elements) declared.add(element.name.text);
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) bind(declaration.name);
    } else if ('name' in statement && statement.name && ts.isIdentifier(statement.name as ts.Node)) {
      declared.add((statement.name as ts.Identifier).text);
    }
  }
  const visit = (node: ts.Node): void => {
    const isMemberName = ts.isPropertyAccessExpression(node.parent) && node.parent.name === node;
    if (ts.isIdentifier(node) && !isMemberName) mentioned.add(node.text);
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(source, visit);
  return { declared, mentioned };
}

function compilerOptions(): ts.CompilerOptions {
  const configFile = resolve(ROOT, 'tsconfig.json');
  const { config } = ts.readConfigFile(configFile, (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, configFile);
  return { ...options, noEmit: true, declaration: false, sourceMap: false };
}

/** What each of IMPLIED_MODULES exports, name by name, in the modules' order of precedence. */
function impliedExports(program: ts.Program, probe: string): Map<string, string> {
  const checker = program.getTypeChecker();
  const exports = new Map<string, string>();
  const probeFile = program.getSourceFile(probe)!;
  for (const [index, specifier] of IMPLIED_MODULES.entries()) {
    const declaration = probeFile.statements[index] as ts.ImportDeclaration;
    const module = checker.getSymbolAtLocation(declaration.moduleSpecifier);
    if (!module) throw new Error(`The examples' checker cannot resolve ${specifier}.`);
    for (const symbol of checker.getExportsOfModule(module)) if (!exports.has(symbol.name)) exports.set(symbol.name, specifier);
  }
  return exports;
}

/** A specifier of IMPLIED_MODULES as the block's file, beside its page, must write it. */
function fromBlock(fileName: string, specifier: string): string {
  if (!specifier.startsWith('./')) return specifier;
  const path = relative(dirname(fileName), resolve(ROOT, 'test/docs', specifier)).replace(/\\/g, '/');
  return path.startsWith('.') ? path : `./${path}`;
}

/** The block as a module: its own code, after imports of what it uses and does not import itself. */
function asModule(page: string, block: CodeBlock, exports: Map<string, string>): Example {
  // Beside its page, so that a relative import in a block (infra/README.md's `./cdk/…`) means what it says.
  const fileName = resolve(ROOT, dirname(page), `${basename(page).replace(/\./g, '_')}_L${block.line}.example.ts`);
  const code = ellipsesAsComments(block.code);
  const wrapped = !parses(fileName, code) && parses(fileName, `class DocumentedClass {\n${code}\n}`);
  const body = wrapped ? `export class DocumentedClass {\n${code}\n}\n` : code;
  const { declared, mentioned } = namesOf(body);
  const imports = new Map<string, string[]>();
  for (const name of mentioned) {
    const from = exports.get(name);
    if (from && !declared.has(name)) imports.set(from, [...(imports.get(from) ?? []), name]);
  }
  const header = [...imports].map(([from, names]) => `import { ${names.join(', ')} } from '${fromBlock(fileName, from)}';`);
  header.push('export {};');
  return { page, block, fileName, offset: header.length + (wrapped ? 1 : 0), text: `${header.join('\n')}\n${body}` };
}

export function checkExamples(pages: readonly string[]): ExampleCheck {
  const options = compilerOptions();
  const host = ts.createCompilerHost(options, true);
  const files = new Map<string, string>();
  const sourceFiles = new Map<string, ts.SourceFile>();
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
  host.readFile = (name) => files.get(name) ?? readFile.call(host, name);
  host.getSourceFile = (name, language, onError) => {
    const text = files.get(name);
    if (text !== undefined) return ts.createSourceFile(name, text, language);
    const cached = sourceFiles.get(name) ?? getSourceFile.call(host, name, language, onError);
    if (cached) sourceFiles.set(name, cached);
    return cached;
  };

  // First the exports of the modules a block may use unimported, then every block in one program.
  const probe = resolve(ROOT, 'test/docs/implied-modules.ts');
  files.set(probe, IMPLIED_MODULES.map((specifier) => `import '${specifier}';`).join('\n'));
  const first = ts.createProgram([probe, WORLD], options, host);
  const exports = impliedExports(first, probe);

  const result: ExampleCheck = { compiled: new Map(), skipped: [], errors: [] };
  const examples: Example[] = [];
  for (const file of pages) {
    const page = relative(ROOT, file);
    for (const block of readPage(file).blocks.filter(({ language }) => LANGUAGES.has(language))) {
      const notCompiled = /^not-compiled(?::\s*(.*))?$/.exec(block.marker ?? '');
      if (notCompiled) {
        if (!notCompiled[1]) result.errors.push({ at: `${page}:${block.line}`, message: 'a not-compiled marker must say why' });
        else result.skipped.push({ at: `${page}:${block.line}`, reason: notCompiled[1] });
        continue;
      }
      const example = asModule(page, block, exports);
      files.set(example.fileName, example.text);
      examples.push(example);
      result.compiled.set(page, (result.compiled.get(page) ?? 0) + 1);
    }
  }
  const program = ts.createProgram([...examples.map(({ fileName }) => fileName), WORLD], options, host, first);
  for (const example of examples) {
    const source = program.getSourceFile(example.fileName)!;
    for (const diagnostic of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const line = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line;
      const markdownLine = example.block.line + 1 + Math.max(0, line - example.offset);
      result.errors.push({
        at: `${example.page}:${markdownLine}`,
        message: `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')} (in the block at line ${example.block.line})`,
      });
    }
  }
  return result;
}
