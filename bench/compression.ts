import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStore, type DynamoStoreOptions } from 'nest-dynamo-cache/store';
import zlib from 'node:zlib';
import { apiResponse } from './api-response.js';
import type { Report } from './report.js';
import { median } from './table.js';

interface Candidate {
  name: string;
  option: DynamoStoreOptions['compression'];
  compress?: (bytes: Buffer) => Buffer;
  inflate?: (bytes: Buffer) => Buffer;
}

const brotli = (quality: number) => (bytes: Buffer) =>
  zlib.brotliCompressSync(bytes, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: quality, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  });
const deflate = (level: number) => (bytes: Buffer) => zlib.deflateRawSync(bytes, { level });

const CANDIDATES: Candidate[] = [
  { name: 'none', option: false },
  { name: 'deflate level 1', option: { algorithm: 'deflate', level: 1 }, compress: deflate(1), inflate: (b) => zlib.inflateRawSync(b) },
  { name: 'deflate level 6', option: { algorithm: 'deflate', level: 6 }, compress: deflate(6), inflate: (b) => zlib.inflateRawSync(b) },
  {
    name: 'brotli quality 1 (default)',
    option: { algorithm: 'brotli', level: 1 },
    compress: brotli(1),
    inflate: (b) => zlib.brotliDecompressSync(b),
  },
  {
    name: 'brotli quality 4',
    option: { algorithm: 'brotli', level: 4 },
    compress: brotli(4),
    inflate: (b) => zlib.brotliDecompressSync(b),
  },
  {
    name: 'brotli quality 6',
    option: { algorithm: 'brotli', level: 6 },
    compress: brotli(6),
    inflate: (b) => zlib.brotliDecompressSync(b),
  },
];

function microseconds(work: () => unknown, calls: number): number {
  const samples: number[] = [];
  for (let round = 0; round < 7; round++) {
    const started = process.hrtime.bigint();
    for (let call = 0; call < calls; call++) work();
    samples.push(Number(process.hrtime.bigint() - started) / calls / 1000);
  }
  return median(samples);
}

/**
 * Each algorithm and level on a 10 KB and a 100 KB API response: the bytes stored, the CPU time
 * to compress and inflate, and the units DynamoDB Local reports for one write and one strongly
 * consistent read of the item, through the store with that setting.
 */
export async function compressionTable(client: DynamoDBClient, table: string, report: Report, quick: boolean): Promise<void> {
  const rows: string[][] = [];
  for (const kb of [1, 10, 100]) {
    const value = apiResponse(kb * 1024);
    const json = Buffer.from(JSON.stringify(value));
    const calls = Math.max(3, Math.round((quick ? 200 : 1000) / kb));
    for (const candidate of CANDIDATES) {
      const store = new DynamoStore({
        tableName: table,
        client,
        partitionKeyName: 'pk',
        ttlAttributeName: 'ttl',
        partitionKeyPrefix: 'zbench:',
        compression: candidate.option,
        returnConsumedCapacity: true,
      });
      await store.set(`${kb}:${candidate.name}`, value);
      const written = store.capacity.writeUnits;
      await store.get(`${kb}:${candidate.name}`);
      const read = store.capacity.readUnits;
      const compressed = candidate.compress?.(json) ?? json;
      rows.push([
        `${kb} KB`,
        candidate.name,
        String(compressed.length),
        `${((compressed.length / json.length) * 100).toFixed(1)} %`,
        candidate.compress ? microseconds(() => candidate.compress!(json), calls).toFixed(0) : '0',
        candidate.inflate ? microseconds(() => candidate.inflate!(compressed), calls).toFixed(0) : '0',
        String(written),
        String(read),
      ]);
    }
  }
  report.add({
    title: 'Compression: API-style JSON, each algorithm and level',
    header: [
      'JSON',
      'compression',
      'stored bytes',
      'of JSON',
      'compress µs',
      'inflate µs',
      'write units (DynamoDB)',
      'read units (DynamoDB)',
    ],
    rows,
    note:
      'Units are what DynamoDB Local reported (ReturnConsumedCapacity) for one PutItem and one strongly consistent GetItem of the item. ' +
      'The default compresses from 1 KB up with brotli at quality 1: higher qualities save a few per cent of the bytes, ' +
      'rarely a write unit, for three times the time on every write.',
  });
}
