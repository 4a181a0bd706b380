import { describe, expect, it } from 'vitest';
import { DynamoCacheModule, DynamoCacheRegistry } from '../../src/index.js';
import type { BackplaneOptions } from '../../src/entries/options.js';
import { localClient, useTableNames } from '../support/dynamo.js';
import { useNestApps } from '../support/nest-apps.js';
import { seenWithin } from '../support/seen-within.js';
import { collectingMeterProvider, valueOf } from './telemetry-support.js';

const apps = useNestApps();
const table = useTableNames();

/** One instance of a service on `tableName`, reporting to a meter provider of its own, as a process would. */
async function instance(tableName: string, backplane: BackplaneOptions) {
  const telemetry = collectingMeterProvider();
  const app = await apps.start({
    imports: [
      DynamoCacheModule.forRoot({
        tableName,
        client: localClient(),
        createTableIfNotExists: true,
        backplane,
        openTelemetry: { meterProvider: telemetry.meterProvider, traces: false },
      }),
    ],
  });
  return { ...telemetry, backplane: app.get(DynamoCacheRegistry).backplane! };
}

describe('backplane metrics', () => {
  it("reports the streams backplane's state, its lag and each instance's role: one reader, the others followers", async () => {
    const tableName = table('bp_metrics_streams');
    // A generous maxLag: a slow stream read on a busy machine must not degrade the backplane mid-test.
    const streams: BackplaneOptions = { type: 'streams', pollInterval: 100, maxLag: 10_000 };
    const [first, second] = [await instance(tableName, streams), await instance(tableName, streams)];
    const roles = async () => [first!, second!].map((one) => `${one.backplane.stats().role}/${one.backplane.stats().state}`).sort();
    await seenWithin(async () => (await roles()).join(), 'follower/healthy,reader/healthy', 15_000);

    for (const one of [first!, second!]) {
      const { role } = one.backplane.stats();
      const other = role === 'reader' ? 'follower' : 'reader';
      const rolePoints = await one.points('dynamo_cache.backplane.role');
      expect(rolePoints).toHaveLength(2);
      expect(valueOf(rolePoints, { 'backplane.type': 'streams', 'backplane.role': role })).toBe(1);
      expect(valueOf(rolePoints, { 'backplane.type': 'streams', 'backplane.role': other })).toBe(0);
      const statePoints = await one.points('dynamo_cache.backplane.state');
      expect(valueOf(statePoints, { 'backplane.state': 'healthy' })).toBe(1);
      expect(statePoints.filter((point) => point.value === 1)).toHaveLength(1);
      const lag = valueOf(await one.points('dynamo_cache.backplane.lag'), { 'backplane.type': 'streams' }) as number;
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThan(10);
    }
  });

  it('reports no role for the poll backplane, where every instance reads the versions itself', async () => {
    const tableName = table('bp_metrics_poll');
    const one = await instance(tableName, { type: 'poll', interval: 100, maxLag: 10_000 });
    await seenWithin(async () => one.backplane.stats().state, 'healthy', 15_000);
    expect(await one.points('dynamo_cache.backplane.role')).toEqual([]);
    expect(valueOf(await one.points('dynamo_cache.backplane.state'), { 'backplane.type': 'poll', 'backplane.state': 'healthy' })).toBe(1);
  });
});
