import { parse } from '@cdktf/hcl2json';
import { readFile, readdir } from 'node:fs/promises';
import { TABLE_ARN, type ResolvedStatement } from './cdk-template.js';

/**
 * Terraform cannot run here: this reads `infra/terraform` with HCL's own parser (hcl2json, compiled
 * to wasm) and evaluates the few expressions the files use, with the variables' defaults or the
 * values a test gives. An expression outside that set fails the test, which keeps the files within
 * what it checks.
 */
const FOLDER = new URL('../../infra/terraform/', import.meta.url);

type Block = Record<string, any>;
export type Variables = Record<string, unknown>;

export interface TerraformConfig {
  readonly variables: Variables;
  readonly resource: Record<string, Record<string, Block[]>>;
  readonly data: Record<string, Record<string, Block[]>>;
}

export async function readTerraform(): Promise<TerraformConfig> {
  const files = (await readdir(FOLDER)).filter((name) => name.endsWith('.tf')).sort();
  const parsed = await Promise.all(files.map(async (name) => parse(name, await readFile(new URL(name, FOLDER), 'utf8'))));
  const merged = { variable: {}, resource: {}, data: {} } as Record<string, Record<string, any>>;
  for (const file of parsed) {
    for (const section of ['variable', 'resource', 'data']) {
      for (const [type, blocks] of Object.entries(file[section] ?? {})) {
        merged[section]![type] = section === 'variable' ? blocks : { ...merged[section]![type], ...(blocks as object) };
      }
    }
  }
  const variables = Object.fromEntries(
    Object.entries(merged.variable as Record<string, Block[]>).map(([name, [declared]]) => [name, declared!.default ?? null]),
  );
  return { variables, resource: merged.resource!, data: merged.data! } as TerraformConfig;
}

/** One expression, without its `${ }`: a variable, the table's ARN, or a conditional over them. */
function expression(source: string, variables: Variables, scope: Variables): unknown {
  const text = source.trim();
  const conditional = /^(.+?)\s*\?\s*(.+?)\s*:\s*(.+)$/.exec(text);
  if (conditional) {
    const [, test, whenTrue, whenFalse] = conditional;
    return expression(test!, variables, scope) ? expression(whenTrue!, variables, scope) : expression(whenFalse!, variables, scope);
  }
  const comparison = /^(.+?)\s*(==|!=)\s*(.+)$/.exec(text);
  if (comparison) {
    const equal = expression(comparison[1]!, variables, scope) === expression(comparison[3]!, variables, scope);
    return comparison[2] === '==' ? equal : !equal;
  }
  if (text === 'null') return null;
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^"[^"$]*"$/.test(text)) return text.slice(1, -1);
  if (text.startsWith('[') && text.endsWith(']')) {
    const items = text.slice(1, -1).trim();
    return items === '' ? [] : items.split(',').map((item) => expression(item, variables, scope));
  }
  if (text === 'aws_dynamodb_table.cache.arn') return TABLE_ARN;
  const variable = /^var\.(\w+)$/.exec(text);
  if (variable) {
    if (!(variable[1]! in variables)) throw new Error(`Terraform: no variable ${variable[1]}`);
    return variables[variable[1]!];
  }
  if (text in scope) return scope[text];
  throw new Error(`Terraform: the test does not evaluate "${text}"`);
}

/** A string as HCL gives it: `${expr}` alone is the expression's value; otherwise interpolated. */
function evaluateString(value: string, variables: Variables, scope: Variables): unknown {
  const whole = /^\$\{([^}]*)\}$/.exec(value);
  if (whole) return expression(whole[1]!, variables, scope);
  return value.replace(/\$\{([^}]*)\}/g, (_, inner: string) => String(expression(inner, variables, scope)));
}

/**
 * A block with its expressions evaluated and its `dynamic` blocks expanded (each `content` once per
 * element of `for_each`, the element as `<name>.value`).
 */
export function evaluate(value: unknown, variables: Variables, scope: Variables = {}): unknown {
  if (typeof value === 'string') return evaluateString(value, variables, scope);
  if (Array.isArray(value)) return value.map((item) => evaluate(item, variables, scope));
  if (value === null || typeof value !== 'object') return value;
  const { dynamic, ...blocks } = value as Block;
  const result: Block = Object.fromEntries(Object.entries(blocks).map(([key, item]) => [key, evaluate(item, variables, scope)]));
  for (const [name, [generator]] of Object.entries((dynamic ?? {}) as Record<string, Block[]>)) {
    const elements = evaluate(generator!.for_each, variables, scope) as unknown[];
    const generated = elements.map((element) => evaluate(generator!.content[0], variables, { ...scope, [`${name}.value`]: element }));
    result[name] = [...((result[name] as unknown[] | undefined) ?? []), ...generated];
  }
  return result;
}

/** The evaluated `aws_dynamodb_table.cache`. */
export function terraformTable(config: TerraformConfig, overrides: Variables = {}): Block {
  const [table] = config.resource.aws_dynamodb_table!.cache!;
  return evaluate(table, { ...config.variables, ...overrides }) as Block;
}

/** The statements of `data.aws_iam_policy_document.<name>`, in the shape of a synthesized policy's. */
export function terraformPolicy(config: TerraformConfig, name: string, overrides: Variables = {}): ResolvedStatement[] {
  const [document] = config.data.aws_iam_policy_document![name] ?? [];
  if (document === undefined) throw new Error(`Terraform: no data.aws_iam_policy_document.${name}`);
  const evaluated = evaluate(document, { ...config.variables, ...overrides }) as {
    statement: Array<{
      effect?: string;
      actions: string[];
      resources: string[];
      condition?: Array<{ test: string; variable: string; values: string[] }>;
    }>;
  };
  return evaluated.statement.map((statement) => {
    if ((statement.effect ?? 'Allow') !== 'Allow') throw new Error(`Terraform ${name}: a statement that does not allow`);
    const conditions: Record<string, Record<string, unknown>> = {};
    for (const { test, variable, values } of statement.condition ?? []) conditions[test] = { ...conditions[test], [variable]: values };
    return {
      actions: statement.actions,
      resources: statement.resources,
      ...(Object.keys(conditions).length > 0 && { conditions }),
    };
  });
}
