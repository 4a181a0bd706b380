import { describe, expect, it } from 'vitest';
import { hangBoundMs } from '../../chaos/checker/bounds.js';
import { checkHistory } from '../../chaos/checker/rules.js';
import { HistoryBuilder, OPTIONS } from './history-builder.js';

const found = (builder: HistoryBuilder) =>
  checkHistory(builder.build()).violations.map((violation) => [violation.rule, violation.op?.id, violation.key, violation.note]);

describe('the checker, on getOrSetMany', () => {
  it('finds nothing wrong when each key resolves a loaded, stored or left-out value as it should', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.getOrSetMany('i0', ['k0', 'k1', 'k2'], ['k0|i0|1', 'k1|i0|f2', null], [20, 60], {
      made: { k1: 'k1|i0|f2', k2: 'k2|i0|f3' },
      omitted: ['k2'],
      at: [25, 50],
    });
    // A getOrSetMany that joined that flight for k2, and later reads of what was loaded.
    history.getOrSetMany('i0', ['k2'], [null], [30, 60]);
    history.get('i0', 'k1', 'k1|i0|f2', [70, 71]);
    history.get('i1', 'k1', 'k1|i0|f2', [70, 71]);
    const result = checkHistory(history.build());
    expect(result.violations).toEqual([]);
    expect(result.reads).toBe(6);
  });

  it('loader-omitted: a key its own loader left out resolved a value', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.getOrSetMany('i0', ['k0'], ['k0|i0|1'], [20, 60], { made: { k0: 'k0|i0|f2' }, omitted: ['k0'], at: [25, 50] });
    expect(found(history)).toEqual([['loader-omitted', 'i0:2', 'k0', 'its loader left the key out, yet it resolved a value']]);
  });

  it('loader-omitted: a key resolved undefined though no loader on its instance left it out', () => {
    const history = new HistoryBuilder('none');
    history.getOrSetMany('i0', ['k0', 'k1'], ['k0|i0|f1', null], [20, 60], { made: { k0: 'k0|i0|f1', k1: 'k1|i0|f2' }, at: [25, 50] });
    // Another instance's loader left it out: no flight of this instance's.
    history.getOrSetMany('i1', ['k2'], [null], [20, 60], { made: { k2: 'k2|i1|f3' }, omitted: ['k2'], at: [25, 50] });
    history.getOrSetMany('i0', ['k2'], [null], [30, 60]);
    expect(found(history)).toEqual([
      ['loader-omitted', 'i0:1', 'k1', 'resolved undefined for a key no loader left out'],
      ['loader-omitted', 'i0:3', 'k2', 'resolved undefined for a key no loader left out'],
    ]);
  });

  it('loader-omitted: a value a loader left out was stored after all (a read of any kind returned it)', () => {
    const history = new HistoryBuilder('none');
    history.getOrSetMany('i0', ['k0'], [null], [20, 60], { made: { k0: 'k0|i0|f1' }, omitted: ['k0'], at: [25, 50] });
    history.get('i1', 'k0', 'k0|i0|f1', [100, 101]);
    expect(found(history)).toEqual([
      ['loader-omitted', 'i1:2', 'k0', 'read a value the loader of i0:1 left out, as if it had been stored'],
    ]);
  });

  it('judges each key as a getOrSet: a value its own instance deleted, or one read before it was written', () => {
    const history = new HistoryBuilder('poll');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.del('i0', 'k0', [20, 30]);
    history.getOrSetMany('i0', ['k0', 'k1'], ['k0|i0|1', 'k1|i1|9'], [40, 50]);
    history.set('i1', 'k1', 'k1|i1|9', [100, 110]);
    expect(found(history)).toEqual([
      ['read-your-writes', 'i0:3', 'k0', undefined],
      ['phantom-value', 'i0:3', 'k1', 'read before it was written'],
    ]);
  });

  it('expired-served: a key its instance expired, unless a fail-safe loader failed and served it', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.expire('i0', 'k0', [20, 30]);
    history.getOrSetMany('i0', ['k0'], ['k0|i0|1'], [40, 90], { made: { k0: 'k0|i0|f2' }, at: [45, 85], threw: true }, { failSafe: true });
    history.set('i0', 'k1', 'k1|i0|3', [0, 10]);
    history.expire('i0', 'k1', [20, 30]);
    history.getOrSetMany('i0', ['k1'], ['k1|i0|3'], [40, 90], { made: { k1: 'k1|i0|f4' }, at: [45, 85] });
    expect(found(history)).toEqual([
      ['expired-served', 'i0:6', 'k1', 'expired by its own instance, and no failing fail-safe factory served it'],
    ]);
  });

  it('counts a loaded value as a write: lost-write for a miss after it, on its own instance', () => {
    const history = new HistoryBuilder('none');
    history.getOrSetMany('i0', ['k0', 'k1'], ['k0|i0|f1', 'k1|i0|f2'], [0, 40], { made: { k0: 'k0|i0|f1', k1: 'k1|i0|f2' }, at: [5, 30] });
    history.get('i0', 'k1', null, [50, 51]);
    expect(found(history)).toEqual([['lost-write', 'i0:2', 'k1', undefined]]);
  });

  it('hang: bounds a getOrSetMany by its batch read, the tag times, its loader, its batch write and the bump', () => {
    const history = new HistoryBuilder();
    const bound = hangBoundMs('getOrSetMany', OPTIONS);
    expect(bound).toBe(16 * OPTIONS.operationTimeoutMs + OPTIONS.factoryMaxMs + 500);
    history.getOrSetMany('i0', ['k0'], [null], [0, bound + 1], { made: { k0: 'k0|i0|f1' }, omitted: ['k0'], at: [5, 10] });
    expect(found(history)).toEqual([['hang', 'i0:1', undefined, `ran ${bound + 1} ms, bound ${bound} ms`]]);
  });
});
