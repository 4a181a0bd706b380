import { App, Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DYNAMO_CACHE_ACTIONS,
  type DynamoCacheAccess,
  type DynamoCachePermission,
  permissionsFor,
} from '../../infra/cdk/dynamo-cache-policy.js';
import { DynamoCacheTable } from '../../infra/cdk/dynamo-cache-table.js';
import { PERMISSIONS, type PermissionMode } from '../support/iam-policy.js';
import {
  actionsOf,
  grantedStatements,
  managedPolicyId,
  policyStatements,
  synthesizeExampleStack,
  synthesizeTable,
  tableDefinition,
} from './cdk-template.js';
import { type TerraformConfig, type Variables, readTerraform, terraformPolicy, terraformTable } from './terraform-config.js';

// One source of truth: the CDK construct. The CloudFormation file is its example stack's synthesis,
// the Terraform files are checked against what it synthesizes, and its policies against the lists
// that test/security/least-privilege.e2e-spec.ts runs every feature under.
const example = synthesizeExampleStack();
const permissions = Object.keys(DYNAMO_CACHE_ACTIONS) as DynamoCachePermission[];

/** The least-privilege test's modes, as the module's options say them. */
const MODES: Record<Exclude<PermissionMode, 'streams'>, DynamoCacheAccess> = {
  production: {},
  productionWithScan: { scan: true },
  discovery: { scan: true, discoverNames: true },
  create: { scan: true, createTableIfNotExists: true },
};

const sorted = (actions: readonly string[]) => [...actions].sort();
const snakeCase = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

describe('the table as code: CloudFormation is the CDK synthesis', () => {
  it('infra/cloudformation/dynamo-cache.json is the example stack, synthesized (vitest -u rewrites it)', async () => {
    await expect(`${JSON.stringify(example.template, null, 2)}\n`).toMatchFileSnapshot('../../infra/cloudformation/dynamo-cache.json');
  });

  it('creates the table createTableIfNotExists would: string partition key, TTL, on demand, a KEYS_ONLY stream', () => {
    expect(tableDefinition(example.template)).toEqual({
      create: {
        TableName: 'app_cache',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' },
      },
      ttl: { AttributeName: 'ttl', Enabled: true },
      partitionKeyName: 'pk',
      sortKeyName: undefined,
      ttlAttributeName: 'ttl',
    });
  });
});

describe('the table as code: the CDK policies are the least-privilege lists', () => {
  const managedActions = (wanted: readonly DynamoCachePermission[]) =>
    wanted.flatMap((permission) => actionsOf(policyStatements(example.template, managedPolicyId(example.stack, permission))));

  it.each(Object.entries(MODES))('%s: the managed policies it attaches allow exactly its actions', (mode, access) => {
    expect(sorted(managedActions(permissionsFor(access)))).toEqual(sorted(PERMISSIONS[mode as PermissionMode]));
  });

  it('the streams backplane: the Streams policy allows exactly the stream actions', () => {
    expect(sorted(managedActions(['streams']))).toEqual(sorted(PERMISSIONS.streams));
  });

  it('grantCache gives a role, mode by mode, what the managed policies give', () => {
    const grants: Record<string, DynamoCacheAccess> = { ...MODES, streams: { streamsBackplane: true } };
    const { stack, template } = synthesizeTable({ stream: true }, grants);
    for (const mode of Object.keys(MODES)) {
      const granted = grantedStatements(template, stack, mode);
      expect(sorted(actionsOf(granted)), mode).toEqual(sorted(PERMISSIONS[mode as PermissionMode]));
      expect(
        granted.filter((statement) => statement.conditions !== undefined),
        'no prefix given, no condition',
      ).toEqual([]);
    }
    expect(sorted(actionsOf(grantedStatements(template, stack, 'streams')))).toEqual(
      sorted([...PERMISSIONS.production, ...PERMISSIONS.streams]),
    );
  });

  it('confines the item actions, and only them, to the partition key prefix', () => {
    const statements = policyStatements(example.template, managedPolicyId(example.stack, 'items'), { PartitionKeyPrefix: 'orders:' });
    expect(statements).toEqual([
      {
        actions: DYNAMO_CACHE_ACTIONS.items,
        resources: ['<table ARN>'],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['orders:*'] } },
      },
    ]);
    for (const permission of permissions.filter((name) => name !== 'items')) {
      for (const statement of policyStatements(example.template, managedPolicyId(example.stack, permission)))
        expect(statement.conditions).toBeUndefined();
    }
  });

  it('refuses, at synthesis, a partition key named like the TTL attribute', () => {
    expect(() => new DynamoCacheTable(new Stack(new App(), 'Clash'), 'Cache', { partitionKeyName: 'ttl' })).toThrow(
      /partitionKeyName and ttlAttributeName are both "ttl"/,
    );
  });
});

describe('the table as code: Terraform matches the CDK synthesis', () => {
  let terraform: TerraformConfig;
  beforeAll(async () => {
    terraform = await readTerraform();
  });

  /** The Terraform table in the shape of tableDefinition's. */
  function terraformDefinition(overrides: Variables = {}) {
    const table = terraformTable(terraform, overrides);
    return {
      create: {
        TableName: table.name,
        KeySchema: [
          { AttributeName: table.hash_key, KeyType: 'HASH' },
          ...(table.range_key === null ? [] : [{ AttributeName: table.range_key, KeyType: 'RANGE' }]),
        ],
        AttributeDefinitions: table.attribute.map((attribute: { name: string; type: string }) => ({
          AttributeName: attribute.name,
          AttributeType: attribute.type,
        })),
        BillingMode: table.billing_mode,
        ...(table.stream_enabled === true && { StreamSpecification: { StreamEnabled: true, StreamViewType: table.stream_view_type } }),
      },
      ttl: { AttributeName: table.ttl[0].attribute_name, Enabled: table.ttl[0].enabled },
    };
  }

  it("its variables' defaults are the CloudFormation parameters' defaults", () => {
    const defaults = Object.fromEntries(Object.entries(example.template.Parameters!).map(([name, parameter]) => [name, parameter.Default]));
    expect(terraform.variables).toMatchObject({
      table_name: defaults.TableName,
      partition_key_name: defaults.PartitionKeyName,
      ttl_attribute_name: defaults.TtlAttributeName,
      partition_key_prefix: defaults.PartitionKeyPrefix,
      sort_key_name: null,
      stream_enabled: true,
    });
  });

  it("its table is the example stack's: key schema, billing, TTL and stream", () => {
    const { create, ttl } = tableDefinition(example.template);
    expect(terraformDefinition()).toEqual({ create, ttl });
    const renamed = { TableName: 'orders_cache', PartitionKeyName: 'id', TtlAttributeName: 'expires' };
    const given = tableDefinition(example.template, renamed);
    expect(terraformDefinition({ table_name: 'orders_cache', partition_key_name: 'id', ttl_attribute_name: 'expires' })).toEqual({
      create: given.create,
      ttl: given.ttl,
    });
  });

  it("with a sort key and no stream, its table is the construct's with sortKeyName and no stream", () => {
    const { template } = synthesizeTable({ tableName: 'app', partitionKeyName: 'PK', ttlAttributeName: 'ttl', sortKeyName: 'SK' });
    const { create, ttl } = tableDefinition(template);
    expect(terraformDefinition({ table_name: 'app', partition_key_name: 'PK', sort_key_name: 'SK', stream_enabled: false })).toEqual({
      create,
      ttl,
    });
  });

  it.each(permissions)("its %s policy document is the CDK's, statement by statement", (permission) => {
    const cdk = policyStatements(example.template, managedPolicyId(example.stack, permission), { PartitionKeyPrefix: 'orders:' });
    expect(terraformPolicy(terraform, snakeCase(permission), { partition_key_prefix: 'orders:' })).toEqual(cdk);
  });
});
