import type { CreateTableCommandInput, TimeToLiveSpecification } from '@aws-sdk/client-dynamodb';
import { rmSync } from 'node:fs';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Role, AccountRootPrincipal } from 'aws-cdk-lib/aws-iam';
import type { DynamoCacheAccess, DynamoCachePermission } from '../../infra/cdk/dynamo-cache-policy.js';
import { DynamoCacheTable, type DynamoCacheTableProps } from '../../infra/cdk/dynamo-cache-table.js';
import { DynamoCacheExampleStack } from '../../infra/cdk/example-stack.js';

// The CDK CLI's check for a newer version is a network call; synthesis in-process makes none, and this says so.
process.env.CDK_DISABLE_VERSION_CHECK = '1';

export interface Template {
  readonly Parameters?: Record<string, { Default?: string }>;
  readonly Resources: Record<string, { Type: string; Properties: Record<string, any> }>;
  readonly Outputs?: Record<string, unknown>;
}

/** A statement with its intrinsics resolved: the table's ARN reads `<table ARN>`, parameters their values. */
export interface ResolvedStatement {
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions?: Record<string, Record<string, unknown>>;
}

export const TABLE_ARN = '<table ARN>';

/**
 * Synthesizes in-process. aws-cdk-lib validates each template against CloudFormation's resource
 * schemas and its default rules as it synthesizes (a WASM engine, most of the first synthesis's
 * time); strict, a finding of theirs fails the synthesis, and so the test, instead of a warning.
 */
function synthesize<S extends Stack>(build: (app: App) => S): { stack: S; template: Template; ms: number } {
  const started = performance.now();
  const app = new App({ context: { '@aws-cdk/core:strictCfnValidateErrors': true } });
  const stack = build(app);
  const assembly = app.synth();
  const template = assembly.getStackArtifact(stack.artifactId).template as Template;
  const ms = performance.now() - started;
  rmSync(assembly.directory, { recursive: true, force: true });
  return { stack, template, ms };
}

/** `infra/cdk/example-stack.ts`, synthesized in-process: the stack whose template `infra/cloudformation` holds. */
export function synthesizeExampleStack() {
  return synthesize((app) => new DynamoCacheExampleStack(app, 'NestDynamoCache'));
}

/**
 * A stack of one `DynamoCacheTable` and, for each entry of `grants`, a role granted that access on it
 * with `grantCache` (read back with `grantedStatements(template, stack, name)`).
 */
export function synthesizeTable(props: DynamoCacheTableProps, grants: Record<string, DynamoCacheAccess> = {}) {
  return synthesize((app) => {
    const stack = new Stack(app, 'CacheTableOnly');
    const cache = new DynamoCacheTable(stack, 'Cache', props);
    for (const [name, access] of Object.entries(grants))
      cache.grantCache(new Role(stack, name, { assumedBy: new AccountRootPrincipal() }), access);
    return stack;
  });
}

/** Resolves Ref (to `parameters`, else the parameter's default), Fn::Join and the table's Fn::GetAtt Arn. */
export function resolve(template: Template, value: unknown, parameters: Record<string, string> = {}): unknown {
  if (Array.isArray(value)) return value.map((item) => resolve(template, item, parameters));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  if ('Ref' in object) {
    const name = object.Ref as string;
    const resolved = parameters[name] ?? template.Parameters?.[name]?.Default;
    if (resolved === undefined) throw new Error(`Ref ${name}: no such parameter, or it has no default`);
    return resolved;
  }
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolve(template, part, parameters)).join(separator);
  }
  if ('Fn::GetAtt' in object) {
    const [logicalId, attribute] = object['Fn::GetAtt'] as [string, string];
    if (template.Resources[logicalId]?.Type === 'AWS::DynamoDB::Table' && attribute === 'Arn') return TABLE_ARN;
    throw new Error(`Fn::GetAtt ${logicalId}.${attribute} is not resolved here`);
  }
  return Object.fromEntries(Object.entries(object).map(([key, item]) => [key, resolve(template, item, parameters)]));
}

function onlyResource(template: Template, type: string): [string, Record<string, any>] {
  const found = Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return [found[0]![0], found[0]![1].Properties];
}

/**
 * What CloudFormation would ask DynamoDB for: the CreateTable and UpdateTimeToLive inputs that the
 * template's table resource stands for, with `parameters` given as at a deploy.
 */
export function tableDefinition(template: Template, parameters: Record<string, string> = {}) {
  const [, properties] = onlyResource(template, 'AWS::DynamoDB::Table');
  const table = resolve(template, properties, parameters) as Record<string, any>;
  const known = ['TableName', 'KeySchema', 'AttributeDefinitions', 'BillingMode', 'StreamSpecification', 'TimeToLiveSpecification'];
  const unknown = Object.keys(table).filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new Error(`the table has properties this test does not create: ${unknown.join(', ')}`);
  const create: CreateTableCommandInput = {
    TableName: table.TableName,
    KeySchema: table.KeySchema,
    AttributeDefinitions: table.AttributeDefinitions,
    BillingMode: table.BillingMode,
    // CloudFormation's StreamSpecification names the view type only; the API's says it is enabled too.
    ...(table.StreamSpecification && { StreamSpecification: { StreamEnabled: true, ...table.StreamSpecification } }),
  };
  const ttl = table.TimeToLiveSpecification as TimeToLiveSpecification;
  const keyNamed = (type: 'HASH' | 'RANGE') =>
    (table.KeySchema as Array<{ AttributeName: string; KeyType: string }>).find((key) => key.KeyType === type)?.AttributeName;
  return { create, ttl, partitionKeyName: keyNamed('HASH')!, sortKeyName: keyNamed('RANGE'), ttlAttributeName: ttl.AttributeName! };
}

/** The statements of a policy resource (AWS::IAM::ManagedPolicy, AWS::IAM::Policy), resolved. */
export function policyStatements(template: Template, logicalId: string, parameters: Record<string, string> = {}): ResolvedStatement[] {
  const document = resolve(template, template.Resources[logicalId]!.Properties.PolicyDocument, parameters) as {
    Statement: Array<{ Effect: string; Action: string | string[]; Resource: string | string[]; Condition?: Record<string, any> }>;
  };
  const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);
  return document.Statement.map((statement) => {
    if (statement.Effect !== 'Allow') throw new Error(`${logicalId}: a statement that does not allow`);
    return {
      actions: list(statement.Action),
      resources: list(statement.Resource),
      ...(statement.Condition && { conditions: statement.Condition }),
    };
  });
}

/** What `grantCache` gave the role `name` of `synthesizeTable`. */
export function grantedStatements(template: Template, stack: Stack, name: string): ResolvedStatement[] {
  const policy = stack.node.findChild(name).node.findChild('DefaultPolicy').node.defaultChild as CfnElement;
  return policyStatements(template, stack.getLogicalId(policy));
}

/** The logical id of one of the example stack's managed policies. */
export function managedPolicyId(stack: DynamoCacheExampleStack, permission: DynamoCachePermission): string {
  return stack.getLogicalId(stack.policies[permission].node.defaultChild as CfnElement);
}

/** The IAM actions of statements, as test/support/iam-policy.ts names them (no `dynamodb:`). */
export function actionsOf(statements: readonly ResolvedStatement[]): string[] {
  return statements.flatMap((statement) => statement.actions).map((action) => action.replace(/^dynamodb:/, ''));
}

/** The key prefixes a `dynamodb:LeadingKeys` condition allows, as enforcePolicy takes them. */
export function leadingKeyPrefixes(statements: readonly ResolvedStatement[]): string[] | undefined {
  const values = statements.flatMap(
    (statement) => (statement.conditions?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] as string[] | undefined) ?? [],
  );
  return values.length === 0 ? undefined : values.map((value) => value.replace(/\*$/, ''));
}
