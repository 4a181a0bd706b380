// Writes docs/reference/options.md, the options reference, from two sources and nothing else: each
// option's doc comment and type (read with the TypeScript compiler from the public option types in
// src/), and each default from the defaults objects (`STORE_DEFAULTS`, `CACHE_DEFAULTS`, …), imported
// from src/ and evaluated, so that no default is written twice. An option whose default no object
// holds (computed, or written where it is used) says it in its doc comment's `@defaultValue`.
//
//   node scripts/options-reference.mjs            writes the file (npm run docs:options)
//   node scripts/options-reference.mjs --check    exits 1 if the file is not what would be written
//   node scripts/options-reference.mjs --report   prints { markdown, problems } as JSON, for the tests
//
// `buildOptionsReference()` also gives each object-held default by where its option is declared,
// which the TypeDoc plugin (typedoc-defaults.mjs) writes into the API reference as `@defaultValue`.
//
// Problems: an option without a doc comment, a default written both in a defaults object and in a
// doc comment, a duration that does not say it is in ms, a public options type that no group lists, a
// default that no option takes.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { register } from 'node:module';
import { argv, exit, stderr, stdout } from 'node:process';
import { URL, fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUTPUT = 'docs/reference/options.md';
const ENTRY_POINTS = [
  'src/index.ts',
  'src/entries/store.ts',
  'src/entries/session.ts',
  'src/entries/observability.ts',
  'src/entries/options.ts',
  'src/entries/testing.ts',
];

/**
 * One table per options object, in the order a reader meets them. `type`: the exported type (or, with
 * `variable`, the type of that exported value); `prefix`: where its options sit in the module's
 * options (`memory` gives `memory.maxTtl`); `defaults`: the defaults object (a path in it) its options
 * take their defaults from; `also`: groups whose options it takes too, listed there and not here;
 * `defaultsFrom`: a default held by another constant; `renamed`: an option whose default the object
 * holds under another name.
 */
const GROUPS = [
  {
    id: 'module',
    title: 'Module',
    variable: 'OPTIONS_TYPE',
    typeName: 'DynamoCacheModuleOptions',
    defaults: 'MODULE_DEFAULTS',
    also: ['store', 'cache', 'get-or-set'],
    covers: ['DistributedModuleOptions', 'MemoryOnlyModuleOptions', 'MemoryCacheModuleOptions'],
  },
  {
    id: 'store',
    title: 'Store',
    type: 'DynamoStoreOptions',
    defaults: 'STORE_DEFAULTS',
  },
  {
    id: 'cache',
    title: 'Cache',
    type: 'DynamoCacheOptions',
    defaults: 'CACHE_DEFAULTS',
    defaultsFrom: { name: 'DEFAULT_CACHE_NAME' },
    also: ['get-or-set'],
  },
  { id: 'memory-tier', title: 'Memory tier', type: 'MemoryOptions', prefix: 'memory', defaults: 'CACHE_DEFAULTS.memory' },
  {
    id: 'auto-recovery',
    title: 'Auto-recovery',
    type: 'AutoRecoveryOptions',
    prefix: 'autoRecovery',
    defaults: 'CACHE_DEFAULTS.autoRecovery',
  },
  {
    id: 'get-or-set',
    title: 'Get-or-set',
    type: 'GetOrSetOptions',
    defaults: 'CALL_DEFAULTS',
  },
  {
    id: 'distributed-lock',
    title: 'Distributed lock',
    type: 'DistributedLockOptions',
    prefix: 'distributedLock',
    defaults: 'DISTRIBUTED_LOCK_DEFAULTS',
  },
  {
    id: 'streams-backplane',
    title: 'Streams backplane',
    type: 'StreamsBackplaneOptions',
    prefix: 'backplane',
    defaults: 'BACKPLANE_DEFAULTS',
    covers: ['BackplaneOptions'],
  },
  {
    id: 'poll-backplane',
    title: 'Poll backplane',
    type: 'PollBackplaneOptions',
    prefix: 'backplane',
    defaults: 'BACKPLANE_DEFAULTS',
    renamed: { interval: 'pollInterval' },
  },
  { id: 'sessions', title: 'Sessions', type: 'DynamoSessionOptions', prefix: 'session' },
  {
    id: 'session-store',
    title: 'Session store',
    type: 'DynamoSessionStoreOptions',
    also: ['sessions'],
  },
  { id: 'opentelemetry', title: 'OpenTelemetry', type: 'OpenTelemetryOptions', prefix: 'openTelemetry' },
  {
    id: 'named-caches',
    title: 'Named caches',
    type: 'NamedCacheOptions',
    where: '`DynamoCacheModule.forFeature(options)`; `@InjectCache(name)` injects the cache',
    also: ['cache', 'get-or-set'],
  },
  {
    id: 'named-caches-from-configuration',
    title: 'Named caches from configuration',
    type: 'NamedCacheAsyncOptions',
  },
  {
    id: 'cacheable',
    title: 'Cacheable',
    type: 'CacheableOptions',
    defaultsFrom: { credentialHeaders: 'DEFAULT_CREDENTIAL_HEADERS' },
    also: ['get-or-set'],
  },
  { id: 'cacheevict', title: 'CacheEvict', type: 'CacheEvictOptions' },
  {
    id: 'entry-options',
    title: 'Entry options',
    type: 'EntryOptions',
  },
  { id: 'wrap', title: 'wrap', type: 'WrapOptions' },
  {
    id: 'memory-store',
    title: 'Memory store',
    type: 'MemoryStoreOptions',
    defaults: 'MEMORY_BOUNDS_DEFAULTS',
    defaultsFrom: { tableName: 'MEMORY_ONLY_TABLE' },
    also: ['store'],
  },
  {
    id: 'health-indicator',
    title: 'Health indicator',
    type: 'DynamoCacheHealthOptions',
  },
];

/** Exported constants that hold defaults: the objects, and single values such as `DEFAULT_CACHE_NAME`. */
const DEFAULTS_NAME = /^(?!RESOLVED_)[A-Z_]+_DEFAULTS$|^DEFAULT_[A-Z_]+$/;
/** Words in a doc comment that state a default ("Default 5,000.", "1 (default) or 2"). */
const STATES_DEFAULT = /\bDefault\b|\(default\)|\bby default\b|\bthe default\b(?! cache)/;
/** Options measured in time: their doc comment must say "ms". */
const DURATION_NAME = /timeout|duration|interval|lag|ttl|jitter|expiration/i;

const MS_PER = [
  [86_400_000, 'day'],
  [3_600_000, 'h'],
  [60_000, 'min'],
  [1_000, 's'],
];
const BYTES_PER = [
  [1024 * 1024, 'MiB'],
  [1024, 'KiB'],
];

/** Reads the sources, evaluates the defaults and returns the reference and what is wrong with its sources. */
export async function buildOptionsReference() {
  const program = ts.createProgram(
    ENTRY_POINTS.map((entry) => path.join(ROOT, entry)),
    { ...readCompilerOptions(), noEmit: true },
  );
  const checker = program.getTypeChecker();
  const sources = program.getSourceFiles().filter((file) => isOwnSource(file.fileName));
  const declared = declaredNames(sources);
  const named = new Set(GROUPS.flatMap((group) => Object.values(group.defaultsFrom ?? {})));
  const defaults = await importDefaults(declared.constants, (name) => DEFAULTS_NAME.test(name) || named.has(name));
  const problems = [];
  const consumed = new Set();
  // The default of each option held by a defaults object, by where the option is declared
  // (`src/store/store-options.ts:1234`), for the API reference (scripts/typedoc-defaults.mjs).
  const declaredDefaults = new Map();

  const groups = GROUPS.map((group) => ({ ...group, type: groupType(checker, declared, group) }));
  const groupOfType = new Map(groups.map((group) => [group.type.name, group]));
  const namesOf = new Map(groups.map((group) => [group.id, new Set(propertiesOf(checker, group.type.type).map((p) => p.name))]));

  const sections = groups.map((group) => {
    // An option is the group's own when its type declares it (`ttl` of `@Cacheable`), or when no group
    // it takes options from has it; the others are listed in their group, once.
    const inherited = new Set((group.also ?? []).flatMap((id) => [...namesOf.get(id)]));
    const own = propertiesOf(checker, group.type.type).filter(
      (property) => !inherited.has(property.name) || property.declarations?.some((d) => group.type.members.has(d)),
    );
    const ownNames = new Set(own.map((property) => property.name));
    const names = namesOf.get(group.id);
    const also = (group.also ?? []).map((id) => {
      const taken = [...namesOf.get(id)].filter((name) => names.has(name) && !ownNames.has(name));
      return { id, taken, but: [...namesOf.get(id)].filter((name) => !taken.includes(name)) };
    });
    const groupDefaults = group.defaults === undefined ? undefined : valueAt(defaults, group.defaults);
    const rows = own.flatMap((property) => optionRows(property, group, groupDefaults, group.prefix));
    return { group, rows, also };
  });

  function optionRows(property, group, objectDefaults, prefix) {
    const optionPath = prefix ? `${prefix}.${property.name}` : property.name;
    const declaration = property.valueDeclaration ?? property.declarations?.[0];
    const description = documentationOf(checker, property);
    const tagged = tagText(checker, property, 'defaultValue');
    const required = declaration !== undefined && isRequired(property);
    const typeNode = declaration && 'type' in declaration ? declaration.type : undefined;
    const typeText = typeNode ? typeToText(typeNode) : checker.typeToString(checker.getNonNullableType(checker.getTypeOfSymbol(property)));
    const unit = unitOf(description, typeText, property.name);
    const where = `${group.title}: \`${optionPath}\``;

    const defaultName = group.renamed?.[property.name] ?? property.name;
    const constant = group.defaultsFrom?.[property.name];
    let value;
    let fromObject = false;
    if (constant !== undefined) {
      value = defaults[constant];
      fromObject = true;
      consumed.add(constant);
    } else if (objectDefaults !== null && typeof objectDefaults === 'object' && defaultName in objectDefaults) {
      value = objectDefaults[defaultName];
      fromObject = true;
      consumed.add(`${defaultName}=${JSON.stringify(value)}`);
    }

    if (description === '') problems.push(`${where} has no doc comment: say what it does, in the user's words.`);
    if (fromObject && (tagged !== undefined || STATES_DEFAULT.test(description))) {
      problems.push(
        `${where}: its default is in a defaults object; the doc comment must not write it again (no "Default …", no @defaultValue).`,
      );
    }
    if (unit !== 'ms' && DURATION_NAME.test(property.name) && /\bnumber\b/.test(typeText)) {
      problems.push(`${where} is a duration: its doc comment must say it is in ms.`);
    }

    if (fromObject && declaration) {
      const at = `${path.relative(ROOT, declaration.getSourceFile().fileName).split(path.sep).join('/')}:${declaration.getStart()}`;
      declaredDefaults.set(at, formatValue(value, unit));
    }
    const defaultCell = fromObject ? formatValue(value, unit) : tagged !== undefined ? tagged : required ? 'required' : '—';
    const linked = referencedGroups(checker, typeNode, groupOfType).filter((target) => target !== group);
    const see = linked.length > 0 ? ` See ${linked.map((target) => `[${target.title}](#${target.id})`).join(', ')}.` : '';
    const row = { path: optionPath, type: typeText, unit, default: defaultCell, description: description + see };

    // An object written in place (`compression: false | { algorithm, threshold, level }`) has its
    // options listed under it; a named type has a group of its own.
    const literal = typeNode && inlineObject(typeNode);
    if (!literal) return [row];
    const nestedDefaults = fromObject && value !== null && typeof value === 'object' ? value : undefined;
    const nested = checker.getTypeAtLocation(literal).getProperties();
    return [
      row,
      ...nested.flatMap((child) =>
        optionRows(child, { ...group, renamed: undefined, defaultsFrom: undefined }, nestedDefaults, optionPath),
      ),
    ];
  }

  const covered = new Set(groups.flatMap((group) => [group.type.name, ...(group.covers ?? [])]));
  for (const name of publicOptionTypes(checker, program)) {
    if (!covered.has(name))
      problems.push(`${name} is a public options type that the reference does not list: add a group for it to GROUPS.`);
  }
  for (const [name, value] of Object.entries(defaults)) {
    if (!name.endsWith('_DEFAULTS')) continue;
    for (const [key, fieldValue] of Object.entries(value)) {
      if (!consumed.has(`${key}=${JSON.stringify(fieldValue)}`)) {
        problems.push(
          `${name}.${key} is the default of no option in the reference: name the option in its group's "renamed", or remove it.`,
        );
      }
    }
  }

  return { markdown: render(sections), problems, declaredDefaults };
}

function render(sections) {
  const lines = [
    '<!-- Written by `npm run docs:options` (scripts/options-reference.mjs) from the doc comments of the',
    '     option types in src/ and the defaults objects there: edit those, not this file. -->',
    '',
    '# Options reference',
    '',
    'Every option, with its type, its default and what it does. Durations are in milliseconds and sizes',
    'in bytes, as the type column says. An option left out (or `undefined`) takes its default; options',
    'are checked once, when the module, cache or store is made, and a wrong one throws an',
    '`InvalidOptionError` that names it (`memory.maxTtl`).',
    '',
    ...sections.map(({ group }) => `- [${group.title}](#${group.id}): \`${group.type.name}\``),
    '',
  ];
  for (const { group, rows, also } of sections) {
    lines.push(`## ${group.title}`, '');
    const intro = [withoutSelfReference(group.type.description), group.where ? `Taken by ${group.where}.` : ''].filter(Boolean).join(' ');
    if (intro) lines.push(intro, '');
    if (group.prefix) lines.push(`The options of \`${group.prefix}: { … }\`.`, '');
    if (also.length > 0) {
      const code = (names) => joinWords(names.map((name) => `\`${name}\``));
      const parts = also.map(({ id, taken, but }) => {
        const link = `[${sections.find((section) => section.group.id === id).group.title}](#${id})`;
        if (but.length > taken.length) return `${code(taken)} of ${link}`;
        return `the options of ${link}${but.length > 0 ? ` but ${code(but)}` : ''}`;
      });
      lines.push(`Also takes ${joinWords(parts)}.`, '');
    }
    lines.push('| option | type | default | description |', '| --- | --- | --- | --- |');
    for (const row of rows) {
      const type = `\`${row.type}\`${row.unit ? ` (${row.unit})` : ''}`;
      lines.push(`| \`${row.path}\` | ${cell(type)} | ${cell(row.default)} | ${cell(row.description)} |`);
    }
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** A type's doc comment in the reference it points to: without the sentence that points there. */
function withoutSelfReference(text) {
  return text
    .split(/(?<=\.)\s+/)
    .filter((sentence) => !sentence.includes('options reference'))
    .join(' ');
}

function joinWords(words) {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

/** A table cell: one line, pipes escaped (also in code spans, as GitHub and VitePress read them). */
function cell(text) {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

function formatValue(value, unit) {
  if (typeof value === 'number') {
    const scale = unit === 'ms' ? MS_PER : unit === 'bytes' ? BYTES_PER : [];
    const [size, name] = scale.find(([per]) => value >= per && value % per === 0) ?? [];
    return `\`${value}\`${size ? ` (${value / size} ${name}${name === 'day' && value / size !== 1 ? 's' : ''})` : ''}`;
  }
  return `\`${literalText(value)}\``;
}

function literalText(value) {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `[${value.map(literalText).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{ ${Object.entries(value)
      .map(([key, field]) => `${key}: ${literalText(field)}`)
      .join(', ')} }`;
  }
  return String(value);
}

/** `ms` or `bytes` for a number option whose doc comment says so. */
function unitOf(description, typeText, name) {
  if (!/\bnumber\b/.test(typeText)) return undefined;
  if (/\bms\b/.test(description)) return 'ms';
  if (/\bbytes\b/i.test(description) || /Bytes$/.test(name)) return 'bytes';
  return undefined;
}

function readCompilerOptions() {
  const file = path.join(ROOT, 'tsconfig.build.json');
  const { config } = ts.readConfigFile(file, ts.sys.readFile);
  return ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, file).options;
}

function isOwnSource(fileName) {
  const relative = path.relative(ROOT, fileName);
  return relative.startsWith(`src${path.sep}`) && !relative.endsWith('.spec.ts');
}

/** Every interface, type alias and exported constant of src/, by name (the options types are named once). */
function declaredNames(sources) {
  const types = new Map();
  const constants = new Map();
  for (const file of sources) {
    for (const statement of file.statements) {
      if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) {
        if (!types.has(statement.name.text)) types.set(statement.name.text, statement);
      }
      if (ts.isVariableStatement(statement) && statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) {
        for (const declaration of statement.declarationList.declarations) {
          if (ts.isIdentifier(declaration.name)) constants.set(declaration.name.text, { declaration, fileName: file.fileName });
          if (ts.isObjectBindingPattern(declaration.name)) {
            for (const element of declaration.name.elements) {
              if (ts.isIdentifier(element.name)) constants.set(element.name.text, { declaration: element, fileName: file.fileName });
            }
          }
        }
      }
    }
  }
  return { types, constants };
}

/** The defaults constants, evaluated: their modules imported from src/ as they are (see ts-source-hooks.mjs). */
async function importDefaults(constants, wanted) {
  register('./ts-source-hooks.mjs', import.meta.url);
  const values = {};
  for (const [name, { fileName }] of constants) {
    if (!wanted(name)) continue;
    const module = await import(pathToFileURL(fileName).href);
    values[name] = module[name];
  }
  return values;
}

function valueAt(defaults, dotted) {
  return dotted.split('.').reduce((value, key) => value?.[key], defaults);
}

function groupType(checker, declared, group) {
  const name = group.typeName ?? group.type;
  const declaration = declared.types.get(name);
  if (!declaration) throw new Error(`options reference: no type ${name} in src/ (GROUPS)`);
  const description = documentationOf(checker, checker.getSymbolAtLocation(declaration.name));
  const body = ts.isInterfaceDeclaration(declaration) ? declaration : declaration.type;
  const members = new Set(
    ts.isInterfaceDeclaration(body) || ts.isTypeLiteralNode(body)
      ? body.members
      : ts.isIntersectionTypeNode(body)
        ? body.types.filter(ts.isTypeLiteralNode).flatMap((literal) => literal.members)
        : [],
  );
  const node = group.variable ? declared.constants.get(group.variable).declaration.name : declaration.name;
  return { name, description, members, type: checker.getTypeAtLocation(node) };
}

/** The properties of a type; of each member for a union, merged by name, in the order they are declared. */
function propertiesOf(checker, type) {
  const members = type.isUnion() ? type.types : [type];
  const byName = new Map();
  for (const member of members) {
    for (const property of checker.getPropertiesOfType(member)) {
      const known = byName.get(property.name);
      if (!known || (documentationOf(checker, known) === '' && documentationOf(checker, property) !== ''))
        byName.set(property.name, property);
    }
  }
  return [...byName.values()];
}

function isRequired(property) {
  return (property.flags & ts.SymbolFlags.Optional) === 0;
}

/** The doc comment's text, `{@link X}` written as `X` in code. */
function documentationOf(checker, symbol) {
  if (!symbol) return '';
  return partsToMarkdown(symbol.getDocumentationComment(checker)).trim();
}

function tagText(checker, symbol, name) {
  const tag = symbol.getJsDocTags(checker).find((candidate) => candidate.name === name);
  return tag && partsToMarkdown(tag.text ?? []).trim();
}

/** Doc comment parts as Markdown: `{@link Foo}` as `Foo` in code, `{@link Foo | the foo}` as its text. */
function partsToMarkdown(parts) {
  let text = '';
  let link;
  for (const part of parts) {
    if (part.kind === 'link' && link === undefined) link = { name: '', text: '' };
    else if (part.kind === 'link') {
      text += link.text.trim() || `\`${link.name.trim()}\``;
      link = undefined;
    } else if (link !== undefined && part.kind === 'linkName') link.name += part.text;
    else if (link !== undefined) link.text += part.text;
    else text += part.text;
  }
  return text;
}

/** A type as written, without comments; an object written in place shows as `object`. */
function typeToText(node) {
  const printer = ts.createPrinter({ removeComments: true });
  const replaced = ts.transform(node, [
    (context) => {
      const visit = (child) =>
        ts.isTypeLiteralNode(child) && child.members.every(ts.isPropertySignature)
          ? context.factory.createKeywordTypeNode(ts.SyntaxKind.ObjectKeyword)
          : ts.visitEachChild(child, visit, context);
      return (root) => visit(root);
    },
  ]).transformed[0];
  return printer
    .printNode(ts.EmitHint.Unspecified, replaced, node.getSourceFile())
    .replace(/\s+/g, ' ')
    .replace(/;(?= \})/g, '')
    .trim();
}

/** The object type written in place in a property's type, when it holds options (not methods). */
function inlineObject(typeNode) {
  const candidates = ts.isUnionTypeNode(typeNode) ? typeNode.types : [typeNode];
  return candidates.find((candidate) => ts.isTypeLiteralNode(candidate) && candidate.members.every(ts.isPropertySignature));
}

/** The groups whose types a property's type names, through union aliases (`BackplaneOptions`). */
function referencedGroups(checker, typeNode, groupOfType) {
  if (!typeNode) return [];
  const found = [];
  const visit = (node) => {
    if (ts.isTypeReferenceNode(node)) {
      const name = node.typeName.getText();
      if (groupOfType.has(name)) found.push(groupOfType.get(name));
      else {
        const type = checker.getTypeFromTypeNode(node);
        for (const member of type.isUnion() ? type.types : []) {
          const memberName = member.getSymbol()?.name;
          if (memberName && groupOfType.has(memberName)) found.push(groupOfType.get(memberName));
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(typeNode);
  return [...new Set(found)];
}

/** The names of the types exported by the entry points that end in `Options`: each must have a group. */
function publicOptionTypes(checker, program) {
  const names = new Set();
  for (const entry of ENTRY_POINTS) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(path.join(ROOT, entry)));
    for (const symbol of checker.getExportsOfModule(module)) {
      if (symbol.name.endsWith('Options')) names.add(symbol.name);
    }
  }
  return [...names].sort();
}

async function main() {
  const { markdown, problems } = await buildOptionsReference();
  const file = path.join(ROOT, OUTPUT);
  if (argv.includes('--report')) {
    stdout.write(JSON.stringify({ markdown, problems }));
    return;
  }
  for (const problem of problems) stderr.write(`options reference: ${problem}\n`);
  if (argv.includes('--check')) {
    let written = '';
    try {
      written = readFileSync(file, 'utf8');
    } catch {
      // Missing: as stale as a file can be.
    }
    if (written !== markdown) {
      stderr.write(`${OUTPUT} is not what the sources make: run \`npm run docs:options\` and commit it.\n`);
      exit(1);
    }
    if (problems.length > 0) exit(1);
    return;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, markdown);
  stdout.write(`wrote ${OUTPUT}\n`);
  if (problems.length > 0) exit(1);
}

if (argv[1] && path.resolve(argv[1]) === fileURLToPath(import.meta.url)) await main();
