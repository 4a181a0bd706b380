import { RemovalPolicy, Token } from 'aws-cdk-lib';
import { AttributeType, BillingMode, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable, type PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  type DynamoCacheAccess,
  type DynamoCachePermission,
  dynamoCachePolicyStatements,
  permissionGrants,
  permissionStatements,
  permissionsFor,
} from './dynamo-cache-policy.js';

export interface DynamoCacheTableProps {
  /** The module's `tableName`. Default: a name CloudFormation makes up (read it from `names.tableName`). */
  readonly tableName?: string;
  /** The module's `partitionKeyName`: the string partition key. Default `pk`, as `createTableIfNotExists` makes it. */
  readonly partitionKeyName?: string;
  /** The module's `ttlAttributeName`: DynamoDB deletes an item once the epoch seconds in it have passed. Default `ttl`. */
  readonly ttlAttributeName?: string;
  /** The module's `sortKeyName`, for a table of a single-table design: a string sort key. Default: none. */
  readonly sortKeyName?: string;
  /**
   * A KEYS_ONLY stream, which `backplane: { type: 'streams' }` reads (keys are all it needs). Default
   * false. A stream costs nothing until it is read.
   */
  readonly stream?: boolean;
  /** Default RETAIN, CDK's for tables: sessions live in the table too, and a stack deletion should not log every user out. */
  readonly removalPolicy?: RemovalPolicy;
}

/** The names that `DynamoCacheModule.forRoot` needs to use the table with no control-plane call at start-up. */
export interface DynamoCacheTableNames {
  readonly tableName: string;
  readonly partitionKeyName: string;
  readonly ttlAttributeName: string;
  readonly sortKeyName?: string;
}

/**
 * The table of a nest-dynamo-cache cache, as `createTableIfNotExists` would create it: a string
 * partition key (and sort key, for a single-table design), TTL on, on-demand billing, and a
 * KEYS_ONLY stream for the streams backplane; and the least-privilege grants for each way of
 * running the cache on it.
 */
export class DynamoCacheTable extends Construct {
  readonly table: Table;
  /** Pass these to `DynamoCacheModule.forRoot` (with `createTableIfNotExists` left false). */
  readonly names: DynamoCacheTableNames;

  constructor(scope: Construct, id: string, props: DynamoCacheTableProps = {}) {
    super(scope, id);
    const partitionKeyName = props.partitionKeyName ?? 'pk';
    const ttlAttributeName = props.ttlAttributeName ?? 'ttl';
    checkDistinct({ partitionKeyName, ttlAttributeName, sortKeyName: props.sortKeyName });
    this.table = new Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: partitionKeyName, type: AttributeType.STRING },
      ...(props.sortKeyName !== undefined && { sortKey: { name: props.sortKeyName, type: AttributeType.STRING } }),
      timeToLiveAttribute: ttlAttributeName,
      billingMode: BillingMode.PAY_PER_REQUEST,
      ...(props.stream === true && { stream: StreamViewType.KEYS_ONLY }),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.names = {
      tableName: this.table.tableName,
      partitionKeyName,
      ttlAttributeName,
      ...(props.sortKeyName !== undefined && { sortKeyName: props.sortKeyName }),
    };
  }

  /** Grants `grantee` what running the cache as `access` describes needs on this table, and nothing more. */
  grantCache(grantee: IGrantable, access: DynamoCacheAccess = {}): Grant {
    const grants = permissionsFor(access)
      .flatMap((permission) => permissionGrants(this.table.tableArn, permission, access))
      .map(({ actions, resources, conditions }) => Grant.addToPrincipal({ grantee, actions, resourceArns: resources, conditions }));
    return grants.reduce((all, grant) => all.combine(grant));
  }

  /** The statements of `grantCache`, for a policy of your own (a managed policy, a permissions boundary). */
  policyStatements(access: DynamoCacheAccess = {}): PolicyStatement[] {
    return dynamoCachePolicyStatements(this.table.tableArn, access);
  }

  /** The statements of one permission on this table: for a policy per permission, attached as the app's options need. */
  permissionStatements(permission: DynamoCachePermission, options: Pick<DynamoCacheAccess, 'partitionKeyPrefix'> = {}): PolicyStatement[] {
    return permissionStatements(this.table.tableArn, permission, options);
  }
}

/** The module refuses these at start-up; here they fail the synthesis instead of the deploy after it. */
function checkDistinct(names: Record<string, string | undefined>): void {
  const known = Object.entries(names).filter((entry): entry is [string, string] => entry[1] !== undefined && !Token.isUnresolved(entry[1]));
  for (const [index, [option, name]] of known.entries()) {
    const clash = known.slice(index + 1).find(([, other]) => other === name);
    if (clash !== undefined)
      throw new Error(`DynamoCacheTable: ${option} and ${clash[0]} are both "${name}"; a cache table needs distinct names.`);
  }
}
