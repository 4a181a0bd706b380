import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Packr } from 'msgpackr';
import { DynamoStore, type ValueSerializer } from 'nest-dynamo-cache/store';
import { apiResponse } from './api-response.js';
import type { Report } from './report.js';
import { median } from './table.js';

const packr = new Packr({ moreTypes: true });
/** What a user would pass as `serializer` to use msgpackr (see docs/cache-api.md, *Another serializer*). */
export const msgpackSerializer: ValueSerializer = {
  name: 'msgpackr',
  serialize: (value) => packr.pack(value),
  deserialize: (bytes) => packr.unpack(bytes),
};

/**
 * The built-in JSON against msgpackr: the bytes of a 10 KB and a 100 KB API response, and the p50
 * of a store set and get with each, in interleaved rounds against one DynamoDB Local (compression
 * on, as by default).
 */
export async function serializerTable(client: DynamoDBClient, table: string, report: Report, quick: boolean): Promise<void> {
  const stores = {
    'JSON (default)': new DynamoStore({
      tableName: table,
      client,
      partitionKeyName: 'pk',
      ttlAttributeName: 'ttl',
      partitionKeyPrefix: 'ser-json:',
    }),
    msgpackr: new DynamoStore({
      tableName: table,
      client,
      partitionKeyName: 'pk',
      ttlAttributeName: 'ttl',
      partitionKeyPrefix: 'ser-mp:',
      serializer: msgpackSerializer,
    }),
  };
  const rows: string[][] = [];
  for (const kb of [10, 100]) {
    const value = apiResponse(kb * 1024);
    const samples = Object.fromEntries(Object.keys(stores).map((name) => [name, { set: [] as number[], get: [] as number[] }]));
    const rounds = quick ? 20 : 100;
    for (let round = -3; round < rounds; round++) {
      const order = round % 2 ? Object.entries(stores) : Object.entries(stores).reverse();
      for (const [name, store] of order) {
        let started = process.hrtime.bigint();
        await store.set(`v${kb}`, value);
        const setMs = Number(process.hrtime.bigint() - started) / 1e6;
        started = process.hrtime.bigint();
        await store.get(`v${kb}`);
        const getMs = Number(process.hrtime.bigint() - started) / 1e6;
        if (round >= 0) {
          samples[name]!.set.push(setMs);
          samples[name]!.get.push(getMs);
        }
      }
    }
    for (const name of Object.keys(stores)) {
      const bytes = name === 'msgpackr' ? msgpackSerializer.serialize(value).byteLength : Buffer.byteLength(JSON.stringify(value));
      rows.push([
        `${kb} KB`,
        name,
        String(bytes),
        median(samples[name]!.set).toFixed(2),
        median(samples[name]!.get).toFixed(2),
        `${rounds}`,
      ]);
    }
  }
  report.add({
    title: 'Serializers: built-in JSON vs msgpackr through the store',
    header: ['JSON size', 'serializer', 'serialized bytes (before compression)', 'set p50 ms', 'get p50 ms', 'rounds'],
    rows,
    note: 'msgpackr also round-trips Dates, Maps and Sets as themselves; the built-in JSON does too, through tagged values.',
  });
}
