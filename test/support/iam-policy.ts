import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The DynamoDB actions the README's "IAM permissions" section documents for each way of running the
 * cache. Tests hold the library to them: a client guarded by `enforcePolicy` refuses anything else,
 * as IAM would.
 */
const DATA_PLANE = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchGetItem', 'BatchWriteItem'] as const;
export const PERMISSIONS = {
  /** An existing table, `partitionKeyName` and `ttlAttributeName` given, and no `clear()`/`keys()`. */
  production: [...DATA_PLANE],
  /** As production, with `clear()`, `keys()` and the session store's `all()`/`length()`/`clear()`. */
  productionWithScan: [...DATA_PLANE, 'Scan'],
  /** Names left to be discovered. */
  discovery: [...DATA_PLANE, 'Scan', 'DescribeTable', 'DescribeTimeToLive'],
  /** `createTableIfNotExists: true`. */
  create: [...DATA_PLANE, 'Scan', 'DescribeTable', 'DescribeTimeToLive', 'CreateTable', 'UpdateTimeToLive'],
  /** The streams backplane, on its streams client (the table's ARN plus `/stream/*`). */
  streams: ['ListStreams', 'DescribeStream', 'GetShardIterator', 'GetRecords'],
} as const;

export type PermissionMode = keyof typeof PERMISSIONS;

export interface Policy {
  readonly actions: readonly string[];
  /** Like a `dynamodb:LeadingKeys` condition: every key a call names must start with one of these. */
  readonly leadingKeys?: { readonly attribute: string; readonly prefixes: readonly string[] };
}

export class AccessDeniedError extends Error {
  override readonly name = 'AccessDeniedException';
}

type Item = Record<string, { S?: string }>;

/** The partition key values a data call names, for the LeadingKeys check. */
function keysNamed(command: string, input: Record<string, unknown>, attribute: string): Array<string | undefined> {
  const value = (item: Item | undefined) => item?.[attribute]?.S;
  switch (command) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem':
      return [value(input.Key as Item)];
    case 'PutItem':
      return [value(input.Item as Item)];
    case 'BatchGetItem':
      return Object.values(input.RequestItems as Record<string, { Keys: Item[] }>).flatMap((request) => request.Keys.map(value));
    case 'BatchWriteItem':
      return Object.values(
        input.RequestItems as Record<string, Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>>,
      ).flatMap((requests) => requests.map((request) => value(request.PutRequest?.Item ?? request.DeleteRequest?.Key)));
    default:
      return [];
  }
}

/**
 * Makes the client refuse every command outside `policy.actions` (and, with `leadingKeys`, every
 * data call naming a key outside the prefixes) with an AccessDeniedException, and records what it
 * refused.
 */
export function enforcePolicy(client: DynamoDBClient, policy: Policy): string[] {
  const denied: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const action = (context.commandName as string).replace(/Command$/, '');
      if (!policy.actions.includes(action)) {
        denied.push(action);
        throw new AccessDeniedError(`User is not authorized to perform: dynamodb:${action} (not in the documented policy)`);
      }
      if (policy.leadingKeys) {
        const { attribute, prefixes } = policy.leadingKeys;
        const outside = keysNamed(action, args.input as Record<string, unknown>, attribute).find(
          (key) => key === undefined || !prefixes.some((prefix) => key.startsWith(prefix)),
        );
        if (outside !== undefined || (action === 'Scan' && prefixes.length > 0)) {
          denied.push(`${action} ${outside ?? '(whole table)'}`);
          throw new AccessDeniedError(
            `User is not authorized to perform: dynamodb:${action} on key ${outside ?? '(whole table)'} (dynamodb:LeadingKeys)`,
          );
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'iamPolicy', priority: 'high' },
  );
  return denied;
}
