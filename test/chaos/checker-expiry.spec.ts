import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../chaos/checker/rules.js';
import { HistoryBuilder } from './history-builder.js';

const found = (builder: HistoryBuilder) =>
  checkHistory(builder.build()).violations.map((violation) => [violation.rule, violation.op?.id, violation.change?.op.kind]);

describe('the checker, on soft expiry (expire, expireByTag)', () => {
  it('lets a read after an expiry miss, and a getOrSet run its factory, on every instance', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.expire('i0', 'k0', [20, 30]);
    history.get('i0', 'k0', null, [40, 41]);
    history.get('i1', 'k0', null, [40, 41]);
    history.getOrSet('i0', 'k0', 'k0|i0|f2', [50, 80], { value: 'k0|i0|f2', at: [55, 70] });
    history.get('i1', 'k0', 'k0|i0|f2', [100, 101]);
    history.set('i0', 'k1', 'k1|i0|3', [0, 10]);
    history.expireByTag('i1', 'g1', [20, 30]);
    history.get('i0', 'k1', null, [40, 41]);
    expect(found(history)).toEqual([]);
  });

  it('expired-served: the expiring instance reads the expired value at once, by get, mget or a getOrSet that ran no factory', () => {
    const history = new HistoryBuilder('streams');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.expire('i0', 'k0', [20, 30]);
    history.get('i0', 'k0', 'k0|i0|1', [31, 32]);
    history.mget('i0', ['k0'], ['k0|i0|1'], [33, 34]);
    history.getOrSet('i0', 'k0', 'k0|i0|1', [35, 40]);
    expect(found(history)).toEqual([
      ['expired-served', 'i0:3', 'expire'],
      ['expired-served', 'i0:4', 'expire'],
      ['expired-served', 'i0:5', 'expire'],
    ]);
  });

  it('expired-served: expireByTag retires every value made before it, a factory’s whose flight a later getOrSet joined too', () => {
    const history = new HistoryBuilder('poll');
    history.getOrSet('i0', 'k0', 'k0|i0|f1', [0, 300], { value: 'k0|i0|f1', at: [5, 290] });
    history.expireByTag('i0', 'g0', [20, 30]);
    history.getOrSet('i0', 'k0', 'k0|i0|f1', [40, 300]);
    // Another tag's value is untouched.
    history.set('i0', 'k1', 'k1|i0|2', [0, 10]);
    history.get('i0', 'k1', 'k1|i0|2', [40, 41]);
    expect(found(history)).toEqual([['expired-served', 'i0:3', 'expireByTag']]);
  });

  it('expired-served: another instance’s expiry is seen within B, as its writes and deletes are', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.expire('i1', 'k0', [100, 110]);
    history.get('i0', 'k0', 'k0|i0|1', [2_300, 2_301]);
    history.get('i0', 'k0', 'k0|i0|1', [2_400, 2_401]);
    const result = checkHistory(history.build());
    expect(result.violations.map((violation) => [violation.rule, violation.op?.id, violation.gapMs])).toEqual([
      ['expired-served', 'i0:4', 2_290],
    ]);
    expect(result.stalenessMs).toEqual([2_190]);
  });

  it('lets a fail-safe getOrSet whose factory failed serve the expired value, and memory keep it for the throttle', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.expire('i0', 'k0', [20, 30]);
    history.getOrSet('i0', 'k0', 'k0|i0|1', [40, 90], { value: 'k0|i0|f2', at: [45, 85], threw: true }, { failSafe: true });
    // A caller that joined its flight, and reads within failSafeThrottleDuration (1,000 ms) of the failure.
    history.getOrSet('i0', 'k0', 'k0|i0|1', [50, 90]);
    history.get('i0', 'k0', 'k0|i0|1', [1_000, 1_001]);
    expect(found(history)).toEqual([]);
  });

  it('expired-served: the fallback only with fail-safe on, only on the failing instance, and no longer than the throttle', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.expire('i0', 'k0', [20, 30]);
    // The factory failed, but the call had no fail-safe: it should have rejected.
    history.getOrSet('i0', 'k0', 'k0|i0|1', [40, 90], { value: 'k0|i0|f2', at: [45, 85], threw: true });
    history.set('i0', 'k1', 'k1|i0|3', [0, 10]);
    history.expire('i0', 'k1', [20, 30]);
    history.getOrSet('i0', 'k1', 'k1|i0|3', [40, 90], { value: 'k1|i0|f4', at: [45, 85], threw: true }, { failSafe: true });
    history.get('i0', 'k1', 'k1|i0|3', [1_400, 1_401]);
    history.expire('i1', 'k1', [100, 110]);
    history.get('i1', 'k1', 'k1|i0|3', [200, 201]);
    expect(found(history)).toEqual([
      ['expired-served', 'i0:3', 'expire'],
      ['expired-served', 'i0:7', 'expire'],
      ['expired-served', 'i1:9', 'expire'],
    ]);
  });

  it('reports a removal before an expiry: a fallback never outlives a delete (rule 8)', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.expire('i0', 'k0', [20, 30]);
    history.del('i0', 'k0', [40, 50]);
    history.getOrSet('i0', 'k0', 'k0|i0|1', [60, 90], { value: 'k0|i0|f2', at: [65, 85], threw: true }, { failSafe: true });
    expect(found(history)).toEqual([['read-your-writes', 'i0:4', 'del']]);
  });

  it('counts only a durable expiry: acknowledged, expireByTag resolving true, no DynamoDB failure meanwhile', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.expire('i0', 'k0', [20, 30]);
    history.cacheError('i0', 25);
    history.expireByTag('i0', 'g0', [40, 50], { result: false });
    history.get('i0', 'k0', 'k0|i0|1', [100, 101]);
    expect(found(history)).toEqual([]);
  });

  it('lets a miss follow an expiry: no lost-write, though the value stays a fallback', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.expire('i1', 'k0', [20, 30]);
    history.get('i0', 'k0', null, [5_000, 5_001]);
    // A concurrent set whose value an expireByTag of its tag may have caught.
    history.set('i0', 'k1', 'k1|i0|2', [0, 10]);
    history.set('i1', 'k1', 'k1|i1|3', [100, 200]);
    history.expireByTag('i1', 'g1', [150, 160]);
    history.set('i0', 'k1', 'k1|i0|4', [120, 130]);
    history.get('i0', 'k1', null, [5_000, 5_001]);
    expect(found(history)).toEqual([]);
  });
});
