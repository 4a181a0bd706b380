import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';

export type Item = Record<string, AttributeValue>;

/** Every item of the table whose partition key `pk` starts with `prefix`, read raw (a consistent Scan). */
export async function itemsUnder(client: DynamoDBClient, tableName: string, prefix: string): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []).filter((item) => item.pk?.S?.startsWith(prefix)));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}
