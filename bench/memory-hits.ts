import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { createCache } from 'cache-manager';
import type { DynamoCache } from 'nest-dynamo-cache';
import type { Section } from './report.js';
import { median } from './table.js';

/**
 * The cost of a hit served from memory, in ns per call: this cache's memory tier against a bare Map,
 * cache-manager's memory store and bentocache's L1, on the same small JSON value, in interleaved
 * rounds (each round times every contender in a rotated order).
 */
export async function memoryHitTable(cache: DynamoCache, underBackplane: DynamoCache, quick: boolean): Promise<Section> {
  const value = { id: 1, name: 'item 1', tags: ['a', 'b'], nested: { count: 3 } };
  const key = 'hot';
  const map = new Map([[key, value]]);
  const cacheManager = createCache();
  await cacheManager.set(key, value, 600_000);
  const bento = new BentoCache({ default: 'memory', stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })) } });
  await bento.set({ key, value, ttl: '10m' });
  await cache.set(key, value, 600_000);
  // Under a backplane, memory serves past memory.maxTtl (1 ms for `underBackplane`, so that every hit
  // below is one) only while the backplane vouches for it, a check made at the hit itself.
  await underBackplane.set(key, value, 600_000);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const factory = () => value;

  const contenders: Array<[string, () => unknown, number | undefined]> = [
    ['Map.get (sync: no await)', () => map.get(key), undefined],
    ['await Map.get', async () => map.get(key), undefined],
    ['nest-dynamo-cache get (memory hit)', () => cache.get(key), 250],
    ['nest-dynamo-cache getOrSet (memory hit)', () => cache.getOrSet(key, factory, { ttl: 600_000 }), 400],
    ['nest-dynamo-cache get (memory hit, backplane bound checked)', () => underBackplane.get(key), 250],
    ['cache-manager memory get', () => cacheManager.get(key), undefined],
    ['cache-manager memory wrap hit', () => cacheManager.wrap(key, factory, 600_000), undefined],
    ['bentocache L1 get', () => bento.get({ key }), undefined],
    ['bentocache L1 getOrSet hit', () => bento.getOrSet({ key, factory, ttl: '10m' }), undefined],
    // What a copy per hit would add on top of a hit, the alternative to handing out one frozen value.
    ['structuredClone of the value (copy-per-hit cost)', async () => structuredClone(value), undefined],
  ];
  const callsPerSample = quick ? 5_000 : 20_000;
  const rounds = quick ? 5 : 15;
  const samples = contenders.map(() => [] as number[]);
  let sink: unknown;
  for (let round = -1; round < rounds; round++) {
    for (let turn = 0; turn < contenders.length; turn++) {
      const index = (turn + Math.max(round, 0)) % contenders.length;
      const run = contenders[index]![1];
      const started = process.hrtime.bigint();
      // The sync result is kept, so that the JIT cannot drop the call.
      if (index === 0) for (let call = 0; call < callsPerSample; call++) sink = run();
      else for (let call = 0; call < callsPerSample; call++) await run();
      // Round -1 warms the JIT for every contender and is not counted.
      if (round >= 0) samples[index]!.push(Number(process.hrtime.bigint() - started) / callsPerSample);
    }
  }
  await bento.disconnectAll();
  if (sink !== value) throw new Error('Map.get returned the wrong value');
  const mapNs = median(samples[1]!);
  const rows = contenders.map(([name, , target], index) => {
    const ns = median(samples[index]!);
    return [
      name,
      ns.toFixed(0),
      (ns / mapNs).toFixed(1),
      target === undefined ? '' : `≤ ${target}${ns <= target ? ' (met)' : ' (NOT met)'}`,
    ];
  });
  return {
    title: 'A hit served from memory (await included, as a caller pays it)',
    header: ['memory hit', 'ns per call, p50', '× await Map.get', 'target ns'],
    rows,
    note: `${rounds} rounds of ${callsPerSample} calls each.`,
  };
}
