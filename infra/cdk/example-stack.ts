import { BootstraplessSynthesizer, CfnOutput, CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import { ManagedPolicy } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { DYNAMO_CACHE_ACTIONS, type DynamoCachePermission } from './dynamo-cache-policy.js';
import { DynamoCacheTable } from './dynamo-cache-table.js';

/** When to attach each policy: every role the app runs as gets `items`, and whatever its options add. */
const WHEN: Record<DynamoCachePermission, string> = {
  items: 'every mode: the store, sessions, locks, both backplanes (confined to the keys under PartitionKeyPrefix)',
  scan: "add for cache.store.clear(), keys() or the session store's all/length/clear (a Scan reads the whole table)",
  startupChecks: 'add when partitionKeyName or ttlAttributeName is left out of the module options',
  tableCreation: 'add, with StartupChecks, for createTableIfNotExists: true',
  streams: "add for backplane: { type: 'streams' }",
};

const capitalized = (name: string) => name[0]!.toUpperCase() + name.slice(1);

/**
 * The example stack: a cache table with a stream (so that either backplane can run on it) and one
 * managed policy per permission. `infra/cloudformation/dynamo-cache.json` is its synthesis, checked
 * by test/infra/infra-as-code.spec.ts. The names are parameters, so that the template deploys as it
 * is (`aws cloudformation deploy --parameter-overrides TableName=...`).
 */
export class DynamoCacheExampleStack extends Stack {
  readonly cache: DynamoCacheTable;
  readonly policies: Record<DynamoCachePermission, ManagedPolicy>;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    // No bootstrap stack, no CDK metadata resource: the template is plain CloudFormation, deployable without the CDK.
    super(scope, id, { synthesizer: new BootstraplessSynthesizer(), analyticsReporting: false, ...props });
    const parameter = (name: string, defaultValue: string, description: string, allowedPattern: string) =>
      new CfnParameter(this, name, { type: 'String', default: defaultValue, description, allowedPattern }).valueAsString;
    const tableName = parameter('TableName', 'app_cache', 'The module option tableName.', '[a-zA-Z0-9_.-]{3,255}');
    const partitionKeyName = parameter('PartitionKeyName', 'pk', 'The module option partitionKeyName.', '.{1,255}');
    const ttlAttributeName = parameter('TtlAttributeName', 'ttl', 'The module option ttlAttributeName.', '.{1,255}');
    const partitionKeyPrefix = parameter(
      'PartitionKeyPrefix',
      'dc:',
      'The module option partitionKeyPrefix: the Items policy allows only the keys under it.',
      '.{1,255}',
    );

    this.cache = new DynamoCacheTable(this, 'Cache', { tableName, partitionKeyName, ttlAttributeName, stream: true });
    const permissions = Object.keys(DYNAMO_CACHE_ACTIONS) as DynamoCachePermission[];
    this.policies = Object.fromEntries(
      permissions.map((permission) => [
        permission,
        new ManagedPolicy(this, `${capitalized(permission)}Policy`, {
          description: `nest-dynamo-cache, ${permission}: ${WHEN[permission]}.`,
          statements: this.cache.permissionStatements(permission, { partitionKeyPrefix }),
        }),
      ]),
    ) as Record<DynamoCachePermission, ManagedPolicy>;

    new CfnOutput(this, 'CacheTableName', { value: this.cache.names.tableName, description: 'The module option tableName.' });
    new CfnOutput(this, 'CacheTableArn', { value: this.cache.table.tableArn });
    new CfnOutput(this, 'CacheTableStreamArn', { value: this.cache.table.tableStreamArn! });
    for (const permission of permissions) {
      new CfnOutput(this, `${capitalized(permission)}PolicyArn`, { value: this.policies[permission].managedPolicyArn });
    }
  }
}
