import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type DashboardQuery, checkQueries, dashboardQueries, parseExposition } from './dashboard-check.js';

// A few families of a real scrape of the sample (grafana-dashboard.e2e-spec.ts checks the whole one).
const SCRAPE = parseExposition(`# HELP dynamo_cache_lookups_total Lookups per cache, tier (memory, dynamodb) and result (hit, miss, stale)
# UNIT dynamo_cache_lookups_total {lookup}
# TYPE dynamo_cache_lookups_total counter
dynamo_cache_lookups_total{cache_name="default",cache_tier="memory",cache_result="hit",otel_scope_name="nest-dynamo-cache"} 1
dynamo_cache_lookups_total{cache_name="we\\"ird, name=\\"x\\"",cache_tier="dynamodb",cache_result="miss",otel_scope_name="nest-dynamo-cache"} 2
# TYPE dynamo_cache_backplane_lag gauge
dynamo_cache_backplane_lag{backplane_type="streams",otel_scope_name="nest-dynamo-cache"} +Inf
# TYPE db_client_operation_duration histogram
db_client_operation_duration_bucket{db_system_name="aws.dynamodb",db_operation_name="GetItem",cache_name="default",le="0.005"} 3
db_client_operation_duration_count{db_system_name="aws.dynamodb",db_operation_name="GetItem",cache_name="default"} 3
db_client_operation_duration_sum{db_system_name="aws.dynamodb",db_operation_name="GetItem",cache_name="default"} 0.01
`);

const query = (expression: string, legend?: string): DashboardQuery => ({ where: 'panel "P" A', expression, legend });

describe('checking dashboard queries against a scrape', () => {
  it('reads each series name and the labels it carries, a value that looks like a label included', () => {
    expect([...SCRAPE.series.get('dynamo_cache_lookups_total')!].sort()).toEqual([
      'cache_name',
      'cache_result',
      'cache_tier',
      'otel_scope_name',
    ]);
    expect(SCRAPE.series.get('db_client_operation_duration_bucket')!.has('le')).toBe(true);
    expect(SCRAPE.series.get('db_client_operation_duration_count')!.has('le')).toBe(false);
    expect(SCRAPE.types.get('db_client_operation_duration')).toBe('histogram');
  });

  it('passes a query whose metrics and labels all exist, Prometheus’ own instance and job labels included', () => {
    expect(
      checkQueries(
        [
          query(
            'histogram_quantile(0.99, sum by (le, db_operation_name, instance) (rate(db_client_operation_duration_bucket{cache_name=~"$cache", job="app"}[$__rate_interval])))',
            '{{db_operation_name}} {{instance}}',
          ),
          query('max by (backplane_type) (dynamo_cache_backplane_lag)'),
        ],
        SCRAPE,
      ),
    ).toEqual([]);
  });

  it('reports a misspelled metric, with the name it was probably meant to be', () => {
    expect(checkQueries([query('sum(rate(dynamo_cache_lookup_total[5m]))')], SCRAPE)).toEqual([
      'panel "P" A: dynamo_cache_lookup_total is not in the scrape (did you mean dynamo_cache_lookups_total?)',
    ]);
  });

  it('reports a histogram queried by its family name, or with a unit suffix this exporter does not add', () => {
    expect(checkQueries([query('rate(db_client_operation_duration[5m])')], SCRAPE)).toEqual([
      'panel "P" A: db_client_operation_duration is not in the scrape (a histogram: query db_client_operation_duration_bucket, ' +
        'db_client_operation_duration_sum or db_client_operation_duration_count)',
    ]);
    expect(checkQueries([query('rate(db_client_operation_duration_seconds_count[5m])')], SCRAPE)).toEqual([
      'panel "P" A: db_client_operation_duration_seconds_count is not in the scrape (did you mean db_client_operation_duration_count?)',
    ]);
    expect(checkQueries([query('dynamo_cache_lookups_bucket')], SCRAPE)[0]).toMatch(/dynamo_cache_lookups_bucket is not in the scrape/);
  });

  it('reports a label the metric lacks, in a selector, a by (…) list (le off the bucket series) or a legend', () => {
    expect(
      checkQueries(
        [
          query('dynamo_cache_lookups_total{result="hit"}'),
          query('histogram_quantile(0.5, sum by (le) (rate(db_client_operation_duration_count[5m])))'),
          query('sum by (cache_name) (dynamo_cache_lookups_total)', '{{tier}}'),
        ],
        SCRAPE,
      ),
    ).toEqual([
      'panel "P" A: dynamo_cache_lookups_total has no label result (selector); it has cache_name, cache_result, cache_tier, otel_scope_name',
      'panel "P" A: db_client_operation_duration_count has no label le (by); it has cache_name, db_operation_name, db_system_name',
      'panel "P" A: no metric of the query has the legend\'s label tier',
    ]);
  });

  it("reads a variable's label_values(metric, label) as a query of that label on that metric", () => {
    const dashboard = {
      templating: { list: [{ name: 'cache', type: 'query', query: { query: 'label_values(dynamo_cache_lookups_total, cache)' } }] },
    };
    expect(dashboardQueries(dashboard)).toEqual([{ where: 'variable cache', expression: 'group by (cache) (dynamo_cache_lookups_total)' }]);
    expect(checkQueries(dashboardQueries(dashboard), SCRAPE)).toEqual([
      'variable cache: dynamo_cache_lookups_total has no label cache (by); it has cache_name, cache_result, cache_tier, otel_scope_name',
    ]);
  });
});

describe('the Grafana dashboard file', () => {
  const dashboard = JSON.parse(readFileSync(new URL('../../../dashboards/grafana/nest-dynamo-cache.json', import.meta.url), 'utf8'));
  const panels: Array<{ type: string; title: string; datasource?: { uid: string }; targets?: Array<{ datasource: { uid: string } }> }> =
    dashboard.panels;

  it('imports anywhere: a schema version, a Prometheus data source variable that every query uses, and a cache variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.id).toBeNull();
    const variables = Object.fromEntries(dashboard.templating.list.map((variable: { name: string }) => [variable.name, variable]));
    expect(variables.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables.cache).toMatchObject({ type: 'query', definition: 'label_values(dynamo_cache_lookups_total, cache_name)' });
    for (const panel of panels.filter((one) => one.type !== 'row')) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const target of panel.targets ?? []) expect(target.datasource.uid, panel.title).toBe('${datasource}');
    }
  });

  it('gives every panel a unique id and a description, and reads as PromQL throughout', () => {
    const ids = panels.map((panel) => (panel as unknown as { id: number }).id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels.filter((one) => one.type !== 'row'))
      expect((panel as { description?: string }).description, panel.title).toBeTruthy();
    expect(() => checkQueries(dashboardQueries(dashboard), SCRAPE)).not.toThrow();
  });
});
