import { describe, expect, it } from 'vitest';
import { hintFor } from '../../chaos/checker/hints.js';
import { checkHistory } from '../../chaos/checker/rules.js';
import type { History } from '../../chaos/history.js';
import { HistoryBuilder } from './history-builder.js';

const hints = (history: History) =>
  checkHistory(history).violations.map((violation) => [violation.rule, hintFor(violation, history)?.kind]);

describe('the hints a summary gives of how a read came to return a retired value', () => {
  it('joined-flight: a getOrSet that began after its instance’s deleteByTag joined a flight whose factory began before it', () => {
    const history = new HistoryBuilder('streams');
    history.getOrSet('i0', 'k0', 'k0|i0|f1', [0, 300], { value: 'k0|i0|f1', at: [5, 290] });
    history.deleteByTag('i0', 'g0', [20, 30]);
    history.getOrSet('i0', 'k0', 'k0|i0|f1', [40, 300]);
    expect(hints(history.build())).toEqual([['read-your-writes', 'joined-flight']]);
  });

  it('factory-began-before: memory kept what a factory made before its own instance’s deleteByTag', () => {
    const history = new HistoryBuilder('poll');
    history.getOrSet('i0', 'k0', 'k0|i0|f1', [0, 300], { value: 'k0|i0|f1', at: [5, 290] });
    history.deleteByTag('i0', 'g0', [20, 30]);
    history.get('i0', 'k0', 'k0|i0|f1', [400, 400]);
    expect(hints(history.build())).toEqual([['read-your-writes', 'factory-began-before']]);
  });

  it('read-in-flight: a get in flight during its instance’s del put the old value back (issue 23, defect 1)', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.del('i0', 'k0', [100, 130]);
    history.get('i0', 'k0', 'k0|i0|1', [101, 128]);
    history.get('i0', 'k0', 'k0|i0|1', [200, 200]);
    expect(hints(history.build())).toEqual([['read-your-writes', 'read-in-flight']]);
  });

  it('frozen: the instance was frozen between another instance’s change and the read (issue 23, defect 4)', () => {
    const history = new HistoryBuilder('none');
    history.set('i0', 'k0', 'k0|i0|1', [0, 10]);
    history.set('i1', 'k0', 'k0|i1|2', [100, 110]);
    history.fault({ kind: 'freeze', instance: 'i0', start: 50, end: 5_000 });
    history.get('i0', 'k0', 'k0|i0|1', [5_010, 5_010]);
    expect(hints(history.build())).toEqual([['stale-beyond-bound', 'frozen']]);
  });
});
