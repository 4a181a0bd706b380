import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../chaos/checker/rules.js';
import { HistoryBuilder } from './history-builder.js';

const rules = (builder: HistoryBuilder) => checkHistory(builder.build()).violations.map((violation) => violation.rule);

describe('the checker, on what a read returns', () => {
  it('finds nothing wrong in a history where every read returns the latest write, or one replaced within the bound', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.get('i1', 'k0', null, [5, 8]);
    history.get('i0', 'k0', 'k0|i0|1', [20, 21]);
    history.set('i1', 'k0', 'k0|i1|2', [100, 110]);
    // Another instance's change is seen within memory.maxTtl (2,000 ms) + the slack.
    history.get('i0', 'k0', 'k0|i0|1', [2_300, 2_301]);
    history.mget('i0', ['k0', 'k1'], ['k0|i1|2', null], [2_400, 2_410]);
    const result = checkHistory(history.build());
    expect(result.violations).toEqual([]);
    expect(result.reads).toBe(5);
    expect(result.stalenessMs).toEqual([2_190]);
  });

  it('lets a read overlapping a write return either value', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.set('i0', 'k0', 'k0|i0|2', [50, 80]);
    history.get('i0', 'k0', 'k0|i0|1', [60, 61]);
    history.get('i0', 'k0', 'k0|i0|2', [60, 62]);
    expect(rules(history)).toEqual([]);
  });

  it('phantom-value: a value nobody wrote, another key’s value, or one read before its write began', () => {
    const history = new HistoryBuilder();
    history.get('i0', 'k0', 'k0|i9|1', [0, 1]);
    history.set('i0', 'k1', 'k1|i0|2', [0, 10]);
    history.get('i1', 'k0', 'k1|i0|2', [20, 21]);
    history.get('i1', 'k2', 'k2|i0|3', [30, 31]);
    history.set('i0', 'k2', 'k2|i0|3', [40, 50]);
    const result = checkHistory(history.build());
    expect(result.violations.map((violation) => [violation.rule, violation.note])).toEqual([
      ['phantom-value', 'no write made this value'],
      ['phantom-value', 'a value of k1'],
      ['phantom-value', 'read before it was written'],
    ]);
  });

  it('read-your-writes: an instance’s own write, del, deleteByTag or clear() is seen by its next read at once', () => {
    const history = new HistoryBuilder('streams');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.set('i0', 'k0', 'k0|i0|2', [20, 30]);
    history.get('i0', 'k0', 'k0|i0|1', [31, 32]);
    history.set('i0', 'k1', 'k1|i0|3', [0, 10]);
    history.del('i0', 'k1', [20, 30]);
    history.get('i0', 'k1', 'k1|i0|3', [40, 41]);
    history.set('i0', 'k2', 'k2|i0|4', [0, 10]);
    history.deleteByTag('i0', 'g2', [20, 30]);
    history.get('i0', 'k2', 'k2|i0|4', [50, 51]);
    history.set('i0', 'k3', 'k3|i0|5', [0, 10]);
    history.clear('i0', [20, 30]);
    history.mget('i0', ['k3'], ['k3|i0|5'], [60, 61]);
    const result = checkHistory(history.build());
    expect(result.violations.map((violation) => [violation.rule, violation.key, violation.change?.op?.kind, violation.gapMs])).toEqual([
      ['read-your-writes', 'k0', 'set', 1],
      ['read-your-writes', 'k1', 'del', 10],
      ['read-your-writes', 'k2', 'deleteByTag', 20],
      ['read-your-writes', 'k3', 'clear', 30],
    ]);
  });

  it('counts only a durable change as retiring a value: acknowledged, and no DynamoDB failure seen by its instance meanwhile', () => {
    const history = new HistoryBuilder();
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.del('i0', 'k0', [20, 30]);
    history.cacheError('i0', 25);
    history.deleteByTag('i0', 'g0', [40, 50], { result: false });
    history.set('i0', 'k0', 'k0|i0|2', [60, 70], { circuit: ['open', 'open'] });
    history.get('i0', 'k0', 'k0|i0|1', [100, 101]);
    expect(rules(history)).toEqual([]);
  });

  it('a deleteByTag retires a getOrSet value whose factory began before it, though the getOrSet ended after (issue 23, defect 6)', () => {
    const history = new HistoryBuilder('poll');
    history.getOrSet('i0', 'k0', 'k0|i0|f1', [0, 400], { value: 'k0|i0|f1', at: [10, 300] });
    history.deleteByTag('i1', 'g0', [100, 150]);
    // On the factory's instance, 30 s later: beyond B.
    history.get('i0', 'k0', 'k0|i0|f1', [30_000, 30_001]);
    // A write that began after the deleteByTag is not retired by it.
    history.set('i0', 'k1', 'k1|i0|2', [200, 210]);
    history.deleteByTag('i1', 'g1', [100, 150]);
    history.get('i1', 'k1', 'k1|i0|2', [30_000, 30_001]);
    const result = checkHistory(history.build());
    expect(result.violations.map((violation) => [violation.rule, violation.key, violation.gapMs])).toEqual([
      ['stale-beyond-bound', 'k0', 29_850],
    ]);
  });

  it('stale-beyond-bound: another instance’s change is seen within B (maxLag + interval with a backplane) plus the slack', () => {
    const history = new HistoryBuilder('poll');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.set('i1', 'k0', 'k0|i1|2', [100, 110]);
    history.get('i0', 'k0', 'k0|i0|1', [3_860, 3_861]);
    history.get('i0', 'k0', 'k0|i0|1', [3_861, 3_862]);
    const result = checkHistory(history.build());
    expect(result.boundMs).toBe(3_500);
    expect(result.violations.map((violation) => [violation.rule, violation.gapMs, violation.change?.instance])).toEqual([
      ['stale-beyond-bound', 3_751, 'i1'],
    ]);
    expect(result.stalenessMs).toEqual([3_750]);
  });

  it('judges a read by its real start, though its instance was frozen while it ran', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.get('i0', 'k0', 'k0|i0|1', [500, 501]);
    history.set('i1', 'k0', 'k0|i1|2', [1_000, 1_010]);
    history.fault({ kind: 'freeze', instance: 'i0', start: 1_100, end: 5_100 });
    history.get('i0', 'k0', 'k0|i0|1', [1_050, 5_200]);
    // Read after waking: memory must not serve past the bound.
    history.get('i0', 'k0', 'k0|i0|1', [5_210, 5_211]);
    expect(checkHistory(history.build()).violations.map((violation) => [violation.rule, violation.op?.start])).toEqual([
      ['stale-beyond-bound', 5_210],
    ]);
  });

  it('outage-served-retired: a read that saw a DynamoDB failure may serve another instance’s old value, never one its own instance retired', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.set('i1', 'k0', 'k0|i1|2', [100, 110]);
    history.cacheError('i0', 10_000);
    history.get('i0', 'k0', 'k0|i0|1', [9_990, 10_500]);
    history.set('i0', 'k1', 'k1|i0|3', [0, 10]);
    history.del('i0', 'k1', [100, 110]);
    history.getOrSet('i0', 'k1', 'k1|i0|3', [9_995, 10_400], undefined, { failSafe: true });
    expect(checkHistory(history.build()).violations.map((violation) => [violation.rule, violation.key])).toEqual([
      ['outage-served-retired', 'k1'],
    ]);
  });

  it('lost-write: a miss after a durable write that nothing invalidated, at once on the writer and within B elsewhere', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.get('i0', 'k0', null, [20, 21]);
    history.get('i1', 'k0', null, [2_000, 2_001]);
    history.get('i1', 'k0', null, [2_300, 2_301]);
    const result = checkHistory(history.build());
    expect(result.violations.map((violation) => [violation.rule, violation.op?.id, violation.gapMs])).toEqual([
      ['lost-write', 'i0:2', 10],
      ['lost-write', 'i1:4', 2_290],
    ]);
  });

  it('allows a miss after an invalidation (even one not acknowledged), after the ttl, during a failure or a fault', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.del('i1', 'k0', [20, 30], { error: 'OperationTimeoutError' });
    history.get('i0', 'k0', null, [100, 101]);
    history.set('i0', 'k1', 'k1|i0|2', [0, 10], { ttlMs: 1_500 });
    history.get('i0', 'k1', null, [1_500, 1_501]);
    history.set('i0', 'k2', 'k2|i0|3', [0, 10]);
    history.cacheError('i0', 100);
    history.get('i0', 'k2', null, [90, 120]);
    history.fault({ kind: 'latency', instance: 'i0', start: 200, end: 4_200 });
    history.get('i0', 'k2', null, [300, 301]);
    history.fault({ kind: 'dynamodb-pause', start: 5_000, end: 8_000 });
    history.get('i0', 'k2', null, [7_000, 7_001]);
    expect(rules(history)).toEqual(['error-surfaced']);
  });

  it('allows a miss after a concurrent write that may have landed last with a value its tag retired', () => {
    // Seen in a run: a getOrSet whose factory began before a deleteByTag stored its value after a later
    // set, so DynamoDB was left with a value made before the tag's invalidation: a miss for everyone.
    const history = new HistoryBuilder('streams');
    history.getOrSet('i2', 'k8', 'k8|i2|f1', [3_853, 4_154], { value: 'k8|i2|f1', at: [3_858, 4_145] });
    history.deleteByTag('i2', 'g8', [4_023, 4_026]);
    history.set('i2', 'k8', 'k8|i2|2', [4_120, 4_126]);
    history.get('i2', 'k8', null, [4_231, 4_233]);
    expect(rules(history)).toEqual([]);
  });

  it('a getOrSet never resolves undefined', () => {
    const history = new HistoryBuilder();
    history.getOrSet('i0', 'k0', null, [0, 10]);
    expect(rules(history)).toEqual(['phantom-value']);
  });
});
