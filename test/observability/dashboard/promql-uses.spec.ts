import { describe, expect, it } from 'vitest';
import { queryUses } from './promql-uses.js';

describe('queryUses: the metrics and labels a PromQL expression names', () => {
  it('finds the metric of a rate, with the labels its selector matches on, and not the function or the range', () => {
    expect(queryUses('rate(dynamo_cache_lookups_total{cache_result="hit", cache_name=~"$cache"}[$__rate_interval])')).toEqual({
      selectors: [{ metric: 'dynamo_cache_lookups_total', labels: ['cache_result', 'cache_name'] }],
      groupings: [],
    });
  });

  it("ties a histogram_quantile's by (le, …) to the bucket series it aggregates", () => {
    const uses = queryUses(
      'histogram_quantile(0.99, sum by (le, db_operation_name) (rate(db_client_operation_duration_bucket{db_system_name="aws.dynamodb"}[5m])))',
    );
    expect(uses.selectors).toEqual([{ metric: 'db_client_operation_duration_bucket', labels: ['db_system_name'] }]);
    expect(uses.groupings).toEqual([
      { clause: 'by', labels: ['le', 'db_operation_name'], metrics: ['db_client_operation_duration_bucket'] },
    ]);
  });

  it('reads a by written after the aggregation, and each side of a division', () => {
    const uses = queryUses('sum(rate(a_total[5m])) by (x) / sum without (y) (b)');
    expect(uses.selectors.map((selector) => selector.metric)).toEqual(['a_total', 'b']);
    expect(uses.groupings).toEqual([
      { clause: 'by', labels: ['x'], metrics: ['a_total'] },
      { clause: 'without', labels: ['y'], metrics: ['b'] },
    ]);
  });

  it('gives an on (…) list the metrics of both sides it matches, and skips keywords, numbers and strings', () => {
    const uses = queryUses('a > bool 2 * on (instance) group_left (cache_name) b or vector(0) unless c offset 5m');
    expect(uses.selectors.map((selector) => selector.metric)).toEqual(['a', 'b', 'c']);
    expect(uses.groupings.map(({ clause, labels, metrics }) => [clause, labels, metrics])).toEqual([
      ['on', ['instance'], ['a', 'b', 'c']],
      ['group_left', ['cache_name'], ['a', 'b', 'c']],
    ]);
  });

  it('names the metric of a selector written as {__name__="…"}', () => {
    expect(queryUses('{__name__="dynamo_cache_memory_size", cache_name="users"}').selectors).toEqual([
      { metric: 'dynamo_cache_memory_size', labels: ['cache_name'] },
    ]);
  });

  it('refuses an expression it cannot read rather than passing it unchecked', () => {
    expect(() => queryUses('sum(rate(a[5m])')).toThrow(/Unbalanced "\("/);
    expect(() => queryUses('a{b}')).toThrow(/label matcher/);
    expect(() => queryUses('a by (x)')).toThrow(/outside an aggregation/);
  });
});
