import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';

/**
 * What each way of running the cache adds to the policy of the role it runs as (README, "IAM
 * permissions"; test/security/least-privilege.e2e-spec.ts runs each list and refuses the rest):
 *
 * - `items`: every mode. The store, the poll backplane's version items, sessions, locks and the
 *   streams backplane's journal are all items of the one table.
 * - `scan`: the store's own `clear()` (`cache.store.clear()`), `keys()`, and the session store's
 *   `all`/`length`/`clear`. `cache.clear()`, `deleteByTag` and `@CacheEvict` need none.
 * - `startupChecks`: `partitionKeyName` or `ttlAttributeName` left out, so that start-up describes the table.
 * - `tableCreation`: with `startupChecks`, `createTableIfNotExists: true`.
 * - `streams`: `backplane: { type: 'streams' }`, on the table's streams (any instance may be elected to read them).
 */
export const DYNAMO_CACHE_ACTIONS = {
  items: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchGetItem',
    'dynamodb:BatchWriteItem',
  ],
  scan: ['dynamodb:Scan'],
  startupChecks: ['dynamodb:DescribeTable', 'dynamodb:DescribeTimeToLive'],
  tableCreation: ['dynamodb:CreateTable', 'dynamodb:UpdateTimeToLive'],
  streams: ['dynamodb:ListStreams', 'dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords'],
} as const;

export type DynamoCachePermission = keyof typeof DYNAMO_CACHE_ACTIONS;

/** How the app runs the cache, in the module's own words; every field adds to the `items` actions. */
export interface DynamoCacheAccess {
  /** `cache.store.clear()`, `keys()`, the session store's `all`/`length`/`clear`: they Scan the whole table. Default false. */
  readonly scan?: boolean;
  /** `backplane: { type: 'streams' }`. Default false. */
  readonly streamsBackplane?: boolean;
  /** `partitionKeyName` or `ttlAttributeName` left out of the module's options. Default false. */
  readonly discoverNames?: boolean;
  /** `createTableIfNotExists: true` (development: create production tables ahead of deploys). Default false. */
  readonly createTableIfNotExists?: boolean;
  /**
   * The module's `partitionKeyPrefix` (its default is `dc:`): confines the item actions to the keys
   * under it with `dynamodb:LeadingKeys`, for a table the app shares. A Scan names no key, so the
   * condition cannot confine it: the `scan` statement reads the whole table whatever this says.
   */
  readonly partitionKeyPrefix?: string;
}

/** The permissions `access` needs, `items` first. */
export function permissionsFor(access: DynamoCacheAccess = {}): DynamoCachePermission[] {
  const permissions: DynamoCachePermission[] = ['items'];
  if (access.scan === true) permissions.push('scan');
  if (access.discoverNames === true || access.createTableIfNotExists === true) permissions.push('startupChecks');
  if (access.createTableIfNotExists === true) permissions.push('tableCreation');
  if (access.streamsBackplane === true) permissions.push('streams');
  return permissions;
}

/** One statement's worth of a permission, before it becomes a `PolicyStatement` or a `Grant`. */
export interface DynamoCacheStatement {
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions?: Record<string, Record<string, unknown>>;
}

/**
 * What one permission allows on the table `tableArn`. The stream statement names
 * `<table ARN>/stream/*`, not today's stream ARN, which changes when a stream is turned off and on.
 */
export function permissionGrants(
  tableArn: string,
  permission: DynamoCachePermission,
  options: Pick<DynamoCacheAccess, 'partitionKeyPrefix'> = {},
): DynamoCacheStatement[] {
  const actions = [...DYNAMO_CACHE_ACTIONS[permission]];
  if (permission === 'streams') {
    const [listStreams, ...readStream] = actions;
    // ListStreams acts on no table: IAM only allows it on "*".
    return [
      { actions: [listStreams!], resources: ['*'] },
      { actions: readStream, resources: [`${tableArn}/stream/*`] },
    ];
  }
  const prefix = options.partitionKeyPrefix;
  if (permission !== 'items' || prefix === undefined) return [{ actions, resources: [tableArn] }];
  return [{ actions, resources: [tableArn], conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${prefix}*`] } } }];
}

/** The statements of one permission on the table `tableArn`. */
export function permissionStatements(
  tableArn: string,
  permission: DynamoCachePermission,
  options: Pick<DynamoCacheAccess, 'partitionKeyPrefix'> = {},
): PolicyStatement[] {
  return permissionGrants(tableArn, permission, options).map((grant) => new PolicyStatement({ effect: Effect.ALLOW, ...grant }));
}

/** Every statement that `access` needs on the table `tableArn`. */
export function dynamoCachePolicyStatements(tableArn: string, access: DynamoCacheAccess = {}): PolicyStatement[] {
  return permissionsFor(access).flatMap((permission) => permissionStatements(tableArn, permission, access));
}
