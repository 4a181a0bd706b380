import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { DynamoCache } from 'nest-dynamo-cache';
import { DynamoStore } from 'nest-dynamo-cache/store';
import { instrumentCaches } from 'nest-dynamo-cache/observability';
import type { Section } from './report.js';
import { median } from './table.js';

/**
 * What OpenTelemetry costs a call: the same calls on two caches over one table, one with metrics and
 * traces on (the SDK's MeterProvider with a periodic reader, a TracerProvider whose spans are
 * batched to an exporter that drops them), one without, in interleaved rounds. A memory hit must
 * stay within 1.3x of off (its counts are read from stats() at collection, not recorded per hit),
 * a DynamoDB call within 1.05x.
 */
export async function observabilityTable(client: DynamoDBClient, tableName: string, quick: boolean): Promise<Section> {
  const names = { tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl' };
  const build = (prefix: string, memory: boolean) =>
    new DynamoCache(new DynamoStore({ ...names, partitionKeyPrefix: prefix }), memory ? {} : { memory: false });
  const off = { memory: build('otel-off:', true), dynamo: build('otel-off-l2:', false) };
  const on = { memory: build('otel-on:', true), dynamo: build('otel-on-l2:', false) };
  const meterProvider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
        exportIntervalMillis: 1_000,
      }),
    ],
  });
  const dropSpans = {
    export: (_spans: unknown[], done: (result: { code: number }) => void) => done({ code: 0 }),
    shutdown: async () => {},
  };
  const tracerProvider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: dropSpans as never })] });
  const instrumentation = await instrumentCaches({ caches: () => [on.memory, on.dynamo] }, { meterProvider, tracerProvider });

  const value = { id: 1, name: 'item 1', tags: ['a', 'b'], nested: { count: 3 } };
  for (const cache of [off.memory, on.memory, off.dynamo, on.dynamo]) await cache.set('hot', value, 600_000);
  const factory = () => value;
  type Contender = [string, 'ns' | 'µs', number, () => Promise<unknown>, () => Promise<unknown>];
  const hitCalls = quick ? 5_000 : 20_000;
  const l2Calls = quick ? 50 : 200;
  const contenders: Contender[] = [
    ['get (memory hit)', 'ns', hitCalls, () => off.memory.get('hot'), () => on.memory.get('hot')],
    [
      'getOrSet (memory hit)',
      'ns',
      hitCalls,
      () => off.memory.getOrSet('hot', factory, { ttl: 600_000 }),
      () => on.memory.getOrSet('hot', factory, { ttl: 600_000 }),
    ],
    ['get (DynamoDB hit, memory off: one GetItem)', 'µs', l2Calls, () => off.dynamo.get('hot'), () => on.dynamo.get('hot')],
    ['set (one PutItem)', 'µs', l2Calls, () => off.dynamo.set('hot', value, 600_000), () => on.dynamo.set('hot', value, 600_000)],
  ];
  const rounds = quick ? 5 : 15;
  const samples = contenders.map(() => ({ off: [] as number[], on: [] as number[] }));
  for (let round = -1; round < rounds; round++) {
    for (const [index, [, unit, calls, runOff, runOn]] of contenders.entries()) {
      // Which of the pair goes first alternates by round, so that neither always runs on a warmer process.
      const order: Array<['off' | 'on', () => Promise<unknown>]> = [
        ['off', runOff],
        ['on', runOn],
      ];
      if (round % 2 === 1) order.reverse();
      for (const [side, run] of order) {
        const started = process.hrtime.bigint();
        for (let call = 0; call < calls; call++) await run();
        const perCall = Number(process.hrtime.bigint() - started) / calls / (unit === 'µs' ? 1_000 : 1);
        // Round -1 warms the JIT and the connections and is not counted.
        if (round >= 0) samples[index]![side].push(perCall);
      }
    }
  }
  instrumentation.stop();
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
  const rows = contenders.map(([name, unit], index) => {
    const offValue = median(samples[index]!.off);
    const onValue = median(samples[index]!.on);
    const target = unit === 'ns' ? 1.3 : 1.05;
    const ratio = onValue / offValue;
    return [
      name,
      `${offValue.toFixed(unit === 'ns' ? 0 : 0)} ${unit}`,
      `${onValue.toFixed(0)} ${unit}`,
      ratio.toFixed(2),
      `≤ ${target}${ratio <= target ? ' (met)' : ' (NOT met)'}`,
    ];
  });
  return {
    title: 'OpenTelemetry on (metrics and traces) beside off',
    header: ['call', 'off, p50', 'on, p50', '× off', 'target'],
    rows,
    note: `${rounds} rounds; ${hitCalls} calls per sample for memory hits, ${l2Calls} for DynamoDB calls (DynamoDB Local).`,
  };
}
