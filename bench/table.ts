import { CreateTableCommand, type DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';

/** An on-demand table with a string partition key; with `ttl`, TTL on it; with `stream`, a KEYS_ONLY stream (the backplane's). */
export async function createTable(
  client: DynamoDBClient,
  tableName: string,
  partitionKeyName = 'pk',
  options: { ttl?: string; stream?: boolean } = {},
): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: partitionKeyName, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: partitionKeyName, KeyType: 'HASH' }],
      ...(options.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' as const } } : {}),
    }),
  );
  if (options.ttl !== undefined) {
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: options.ttl, Enabled: true } }),
    );
  }
}

/** The value at fraction `p` of already sorted samples (0.99: the p99). */
export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

export const median = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

export function markdownTable(header: string[], rows: string[][]): string {
  return [header, header.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');
}

/** Counts the commands a client sends, by name, to report what an operation cost. */
export function countCommands(client: DynamoDBClient): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context.commandName as string).replace(/Command$/, '');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return counts;
}
