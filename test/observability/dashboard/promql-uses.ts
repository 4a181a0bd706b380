/**
 * What a PromQL expression asks of the series it reads: the metric names it selects, the labels its
 * selectors match on, and the labels of its `by (…)`, `without (…)`, `on (…)` and `ignoring (…)`
 * lists with the metrics each of them groups. Enough of PromQL for a dashboard's queries, not a
 * full parser: it checks names, not types or results (a label grouped away by an inner aggregation
 * and named again by an outer one is not caught).
 */
export interface QueryUses {
  /** Each metric selected, with the labels its `{…}` matches on (`__name__` aside). */
  readonly selectors: ReadonlyArray<{ readonly metric: string; readonly labels: readonly string[] }>;
  /** Each label list, with every metric selected inside the expression it groups or matches. */
  readonly groupings: ReadonlyArray<{ readonly clause: string; readonly labels: readonly string[]; readonly metrics: readonly string[] }>;
}

const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);
const GROUPING_CLAUSES = new Set(['by', 'without']);
const MATCHING_CLAUSES = new Set(['on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);
// Grafana's interval variables, replaced by a duration before parsing ($__rate_interval in `[…]`).
const GRAFANA_DURATIONS = /\$(?:__rate_interval|__interval|__range)\b|\$\{(?:__rate_interval|__interval|__range)\}/g;

type Token = { kind: 'identifier' | 'string' | 'number' | 'punctuation' | 'operator'; text: string };

const TOKEN_PATTERNS: ReadonlyArray<[Token['kind'] | 'space' | 'range', RegExp]> = [
  ['space', /^\s+/],
  ['string', /^"(?:[^"\\]|\\.)*"|^'(?:[^'\\]|\\.)*'|^`[^`]*`/],
  // A range or subquery, `[5m]` or `[1h:1m]`: nothing in it names a series.
  ['range', /^\[[^\]]*\]/],
  ['number', /^(?:0x[0-9a-f]+|\d+(?:\.\d+)?(?:e[+-]?\d+)?[a-z]*)/i],
  ['identifier', /^[a-zA-Z_:][a-zA-Z0-9_:]*/],
  ['punctuation', /^[(){},]/],
  ['operator', /^(?:=~|!~|!=|==|>=|<=|[-+*/%^<>=@])/],
];

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let rest = expression.replace(GRAFANA_DURATIONS, '5m');
  while (rest.length > 0) {
    const found = TOKEN_PATTERNS.map(([kind, pattern]) => [kind, pattern.exec(rest)?.[0]] as const).find(([, text]) => text);
    if (found === undefined) throw new Error(`Cannot read the PromQL at "${rest.slice(0, 30)}" in: ${expression}`);
    const [kind, text] = found;
    if (kind !== 'space' && kind !== 'range') tokens.push({ kind, text: text! });
    rest = rest.slice(text!.length);
  }
  return tokens;
}

/** An open parenthesis: the metrics selected inside it so far, and, for an aggregation's, the `by` given before it. */
interface Frame {
  readonly metrics: string[];
  readonly aggregation?: { readonly clause?: string; readonly labels?: readonly string[] };
}

export function queryUses(expression: string): QueryUses {
  const tokens = tokenize(expression);
  const selectors: Array<{ metric: string; labels: string[] }> = [];
  const groupings: Array<{ clause: string; labels: string[]; metrics: string[] }> = [];
  const stack: Frame[] = [{ metrics: [] }];
  let pendingAggregation: { clause?: string; labels?: readonly string[] } | undefined;
  // The aggregation whose parenthesis just closed, for a `by` written after it: `sum (x) by (l)`.
  let justClosed: Frame | undefined;
  let at = 0;

  const peek = (offset = 0) => tokens[at + offset];
  const expect = (text: string) => {
    if (tokens[at]?.text !== text) throw new Error(`Expected "${text}" at token ${at} of: ${expression}`);
    at++;
  };
  /** `(a, b, c)`: the names listed. */
  const labelList = (): string[] => {
    expect('(');
    const labels: string[] = [];
    while (peek()?.text !== ')') {
      const token = tokens[at++];
      if (token === undefined) throw new Error(`Unclosed label list in: ${expression}`);
      if (token.kind === 'identifier') labels.push(token.text);
      else if (token.text !== ',') throw new Error(`Unexpected "${token.text}" in a label list of: ${expression}`);
    }
    expect(')');
    return labels;
  };
  /** `{a="x", b=~"y"}`: the labels matched on, and the metric named by `__name__` if any. */
  const matchers = (): { labels: string[]; name?: string } => {
    expect('{');
    const labels: string[] = [];
    let name: string | undefined;
    while (peek()?.text !== '}') {
      const label = tokens[at++];
      if (label?.text === ',') continue;
      const operator = tokens[at++];
      const value = tokens[at++];
      if (label?.kind !== 'identifier' || operator?.kind !== 'operator' || value?.kind !== 'string') {
        throw new Error(`Cannot read a label matcher at token ${at} of: ${expression}`);
      }
      if (label.text === '__name__') name = value.text.slice(1, -1);
      else labels.push(label.text);
    }
    expect('}');
    return { labels, name };
  };
  const selected = (metric: string, labels: string[]) => {
    selectors.push({ metric, labels });
    for (const frame of stack) frame.metrics.push(metric);
  };

  while (at < tokens.length) {
    const token = tokens[at]!;
    const closed = justClosed;
    justClosed = undefined;
    if (token.kind === 'identifier' && GROUPING_CLAUSES.has(token.text)) {
      at++;
      const labels = labelList();
      if (pendingAggregation !== undefined) pendingAggregation = { clause: token.text, labels };
      else if (closed !== undefined) groupings.push({ clause: token.text, labels, metrics: closed.metrics });
      else throw new Error(`"${token.text}" outside an aggregation in: ${expression}`);
    } else if (token.kind === 'identifier' && MATCHING_CLAUSES.has(token.text)) {
      at++;
      // The metrics of both sides: the frame is still filling, and is read only once parsing ends.
      if (peek()?.text === '(') groupings.push({ clause: token.text, labels: labelList(), metrics: stack.at(-1)!.metrics });
    } else if (token.kind === 'identifier' && AGGREGATIONS.has(token.text) && ['(', 'by', 'without'].includes(peek(1)?.text ?? '')) {
      at++;
      pendingAggregation = {};
    } else if (token.kind === 'identifier' && (peek(1)?.text === '(' || KEYWORDS.has(token.text.toLowerCase()))) {
      // A function's name, or a keyword.
      at++;
    } else if (token.kind === 'identifier') {
      at++;
      selected(token.text, peek()?.text === '{' ? matchers().labels : []);
    } else if (token.text === '{') {
      const { labels, name } = matchers();
      if (name === undefined) throw new Error(`A selector without a metric name in: ${expression}`);
      selected(name, labels);
    } else if (token.text === '(') {
      at++;
      stack.push(pendingAggregation === undefined ? { metrics: [] } : { metrics: [], aggregation: pendingAggregation });
      pendingAggregation = undefined;
    } else if (token.text === ')') {
      at++;
      const frame = stack.pop()!;
      if (stack.length === 0) throw new Error(`Unbalanced ")" in: ${expression}`);
      const { aggregation } = frame;
      if (aggregation?.labels !== undefined)
        groupings.push({ clause: aggregation.clause!, labels: [...aggregation.labels], metrics: frame.metrics });
      if (aggregation !== undefined) justClosed = frame;
    } else {
      at++;
    }
  }
  if (stack.length !== 1) throw new Error(`Unbalanced "(" in: ${expression}`);
  return { selectors, groupings };
}
