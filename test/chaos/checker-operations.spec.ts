import { describe, expect, it } from 'vitest';
import { hangBoundMs } from '../../chaos/checker/bounds.js';
import { checkHistory } from '../../chaos/checker/rules.js';
import { summarize } from '../../chaos/checker/summary.js';
import { HistoryBuilder, OPTIONS } from './history-builder.js';

const found = (builder: HistoryBuilder) =>
  checkHistory(builder.build()).violations.map((violation) => [violation.rule, violation.instance, violation.note]);

describe('the checker, on errors and time', () => {
  it('error-surfaced: any rejection but the workload factory’s own', () => {
    const history = new HistoryBuilder();
    history.get('i0', 'k0', null, [0, 10], { error: 'OperationTimeoutError', values: undefined });
    history.getOrSet(
      'i0',
      'k1',
      null,
      [0, 10],
      { value: 'k1|i0|f1', at: [1, 5], threw: true },
      {
        error: 'ChaosFactoryError',
        expectedError: true,
        values: undefined,
      },
    );
    expect(found(history)).toEqual([['error-surfaced', 'i0', 'OperationTimeoutError']]);
  });

  it('hang: an operation past its bound, not counting the time its instance was frozen', () => {
    const history = new HistoryBuilder();
    const bound = hangBoundMs('get', OPTIONS);
    history.get('i0', 'k0', null, [0, bound]);
    history.get('i1', 'k0', null, [0, bound + 1]);
    history.fault({ kind: 'freeze', instance: 'i0', start: 10_000, end: 14_000 });
    history.get('i0', 'k0', null, [9_000, 9_000 + bound + 4_000]);
    expect(found(history)).toEqual([['hang', 'i1', `ran ${bound + 1} ms, bound ${bound} ms`]]);
  });

  it('hang: an operation that never ended, unless its instance was killed', () => {
    const history = new HistoryBuilder();
    history.set('i0', 'k0', 'k0|i0|1', [0]);
    history.set('i1', 'k0', 'k0|i1|2', [0]);
    history.instance({ id: 'i1', startedAt: 0, killedAt: 100 });
    expect(found(history)).toEqual([['hang', 'i0', 'never ended']]);
  });

  it('hang: a shutdown that did not resolve, or took longer than its bound', () => {
    const history = new HistoryBuilder();
    history.instance({ id: 'i0', startedAt: 0, closeTimedOut: true });
    history.instance({ id: 'i1', startedAt: 0, closeMs: 60_000 });
    history.instance({ id: 'i2', startedAt: 0, killedAt: 5 });
    expect(found(history)).toEqual([
      ['hang', 'i0', 'app.close() never resolved'],
      ['hang', 'i1', 'app.close() took 60000 ms, bound 5500 ms'],
    ]);
  });
});

describe('the summary', () => {
  it('counts operations, groups violations by rule with at most 5 examples, and gives staleness percentiles', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|0', [0, 10]);
    history.set('i1', 'k0', 'k0|i1|1', [100, 110]);
    for (let read = 0; read < 8; read++) history.get('i0', 'k0', 'k0|i0|0', [5_000 + read, 5_001 + read]);
    history.get('i0', 'k0', 'k0|i0|0', [1_110, 1_111]);
    history.get('i0', 'k0', 'k0|i0|0', [2_110, 2_111]);
    history.fault({ kind: 'dynamodb-pause', start: 20_000, end: 23_000 });
    const summary = summarize(history.build());
    expect(summary.operations).toEqual({ set: 2, get: 10 });
    expect(summary.boundMs).toBe(2_000);
    expect(summary.violationCount).toBe(8);
    expect(summary.violations).toHaveLength(1);
    const [stale] = summary.violations;
    expect(stale!.rule).toBe('stale-beyond-bound');
    expect(stale!.examples.map((example) => example.gapMs)).toEqual([4_890, 4_892, 4_894, 4_895, 4_897]);
    expect(stale!.examples[0]).toMatchObject({
      read: { instance: 'i0', kind: 'get', key: 'k0', value: 'k0|i0|0', start: 5_000 },
      change: { instance: 'i1', kind: 'set', key: 'k0', value: 'k0|i1|1', start: 100, end: 110 },
    });
    expect(summary.staleness).toEqual({ reads: 2, p50Ms: 2_000, p99Ms: 2_000, maxMs: 2_000 });
    expect(summary.faults).toEqual([{ kind: 'dynamodb-pause', start: 20_000, end: 23_000 }]);
  });
});
