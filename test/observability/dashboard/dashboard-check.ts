import { queryUses } from './promql-uses.js';

/** One PromQL expression of a Grafana dashboard: a panel's target or a template variable's query. */
export interface DashboardQuery {
  /** `panel "Hit ratio" A`, `variable cache`: where a problem is to be fixed. */
  readonly where: string;
  readonly expression: string;
  readonly legend?: string;
}

/** What a Prometheus scrape holds: each series name with the labels it carries, and each family's `# TYPE`. */
export interface Exposition {
  readonly series: ReadonlyMap<string, ReadonlySet<string>>;
  readonly types: ReadonlyMap<string, string>;
}

// Prometheus adds these to every series it scrapes: no exporter writes them.
const SCRAPE_LABELS = new Set(['job', 'instance']);
const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;

interface Panel {
  title?: string;
  panels?: Panel[];
  targets?: Array<{ expr?: string; refId?: string; legendFormat?: string }>;
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
}

/** Every query of a dashboard's JSON, row panels' own panels included; `label_values(m, l)` is read as `group by (l) (m)`. */
export function dashboardQueries(dashboard: { panels?: Panel[]; templating?: { list?: Variable[] } }): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  const visit = (panels: Panel[] = []) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr === undefined || target.expr.trim() === '') throw new Error(`Panel "${panel.title}" has a target without expr.`);
        queries.push({
          where: `panel "${panel.title}" ${target.refId ?? ''}`.trim(),
          expression: target.expr,
          legend: target.legendFormat,
        });
      }
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
    const labelValues = /^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/.exec(query.trim());
    if (labelValues === null) throw new Error(`Variable ${variable.name}: only label_values(metric, label) is checked, got "${query}".`);
    queries.push({ where: `variable ${variable.name}`, expression: `group by (${labelValues[2]}) (${labelValues[1]})` });
  }
  return queries;
}

/** Reads Prometheus' text exposition format (what `/metrics` answers). */
export function parseExposition(text: string): Exposition {
  const series = new Map<string, Set<string>>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type !== null) types.set(type[1]!, type[2]!);
    if (line.startsWith('#') || line.trim() === '') continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (name === undefined) throw new Error(`Not a sample line: ${line}`);
    const labels = series.get(name) ?? new Set<string>();
    // Each label is `name="value"`, the value's quotes escaped: matched in turn, a value is never read as a label.
    for (const [, label] of line.slice(name.length).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)) labels.add(label!);
    series.set(name, labels);
  }
  return { series, types };
}

/**
 * What in `queries` the scrape cannot answer: a metric no series is named, a label a metric does not
 * carry (in a selector, a `by`, `on`, … list, or a legend's `{{label}}`). Empty when every panel can draw.
 */
export function checkQueries(queries: readonly DashboardQuery[], exposition: Exposition): string[] {
  const problems: string[] = [];
  const labelsOf = (metric: string) => exposition.series.get(metric);
  const has = (metric: string, label: string) => SCRAPE_LABELS.has(label) || labelsOf(metric)?.has(label) === true;
  const missingLabel = (where: string, metric: string, label: string, role: string) =>
    `${where}: ${metric} has no label ${label} (${role}); it has ${[...labelsOf(metric)!].sort().join(', ')}`;
  for (const { where, expression, legend } of queries) {
    const uses = queryUses(expression);
    const metrics = [...new Set(uses.selectors.map((selector) => selector.metric))];
    for (const metric of metrics)
      if (labelsOf(metric) === undefined) problems.push(`${where}: ${metric} is not in the scrape${hint(metric, exposition)}`);
    for (const { metric, labels } of uses.selectors) {
      if (labelsOf(metric) === undefined) continue;
      for (const label of labels) if (!has(metric, label)) problems.push(missingLabel(where, metric, label, 'selector'));
    }
    for (const grouping of uses.groupings) {
      for (const metric of new Set(grouping.metrics)) {
        if (labelsOf(metric) === undefined) continue;
        for (const label of grouping.labels) if (!has(metric, label)) problems.push(missingLabel(where, metric, label, grouping.clause));
      }
    }
    for (const [, label] of (legend ?? '').matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)) {
      // A metric missing from the scrape is reported already: it is not blamed for the legend too.
      if (!metrics.some((metric) => labelsOf(metric) === undefined || has(metric, label!)))
        problems.push(`${where}: no metric of the query has the legend's label ${label}`);
    }
  }
  return problems;
}

/** Why a name is missing, when the scrape shows it: a histogram family queried bare, or a near spelling. */
function hint(metric: string, exposition: Exposition): string {
  if (exposition.types.get(metric) === 'histogram') return ` (a histogram: query ${metric}_bucket, ${metric}_sum or ${metric}_count)`;
  const family = metric.replace(HISTOGRAM_SERIES, '');
  if (family !== metric && exposition.types.has(family)) return ` (${family} is a ${exposition.types.get(family)}, not a histogram)`;
  const nearest = [...exposition.series.keys()]
    .map((name) => ({ name, distance: editDistance(metric, name) }))
    .sort((a, b) => a.distance - b.distance)[0];
  return nearest !== undefined && nearest.distance <= 12 ? ` (did you mean ${nearest.name}?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
