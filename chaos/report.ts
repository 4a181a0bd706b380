import type { ChaosSummary, OpView, ViolationExample } from './checker/summary.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function describeOp(op: OpView): string {
  const target = op.key ?? (op.tag === undefined ? '' : op.tag);
  const value = op.value === undefined ? '' : ` → ${op.value === null ? 'undefined' : op.value}`;
  const span = `[${op.start}, ${op.end ?? '…'}] ms`;
  return `${op.instance} ${op.kind}(${target})${value} ${span}${op.error === undefined ? '' : ` threw ${op.error}`}`;
}

function describeExample(example: ViolationExample): string {
  const parts = [example.read === undefined ? example.instance : describeOp(example.read)];
  if (example.change !== undefined) parts.push(`after ${describeOp(example.change)}`);
  if (example.gapMs !== undefined) parts.push(`gap ${example.gapMs} ms`);
  if (example.note !== undefined) parts.push(example.note);
  if (example.hint !== undefined) parts.push(`hint: ${example.hint}`);
  return parts.join('; ');
}

/** A short markdown account of one run: its options, operations, faults, violations with examples, staleness. */
export function markdownReport(summary: ChaosSummary): string {
  const { options } = summary;
  const lines = [
    `## ${summary.mode}, seed ${summary.seed}: ${summary.violationCount === 0 ? 'no violation' : `${summary.violationCount} violations`}`,
    '',
    `${seconds(summary.durationMs)}, ${summary.instances} instances; memory.maxTtl ${options.memoryMaxTtlMs} ms, ` +
      (summary.mode === 'none' ? '' : `maxLag ${options.maxLagMs} ms, interval ${options.intervalMs} ms, `) +
      `operationTimeout ${options.operationTimeoutMs} ms, circuitBreakerDuration ${options.circuitBreakerDurationMs} ms; ` +
      `bound B ${summary.boundMs} ms + slack ${summary.slackMs} ms.`,
    '',
    `Operations: ${Object.entries(summary.operations)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(', ')}; ${summary.reads} reads (${summary.readsDuringFailures} while their instance saw a DynamoDB failure), ` +
      `${summary.cacheErrors} DynamoDB failures reported.`,
    '',
    `Faults: ${summary.faults.map((fault) => `${fault.kind}${fault.instance === undefined ? '' : ` ${fault.instance}`}${fault.role === undefined ? '' : ` (${fault.role})`} [${fault.start}, ${fault.end}]${fault.detail === undefined ? '' : ` ${fault.detail}`}`).join('; ') || 'none'}.`,
    '',
    `Staleness of reads that returned a replaced value within the bound (${summary.staleness.reads}): ` +
      `p50 ${summary.staleness.p50Ms} ms, p99 ${summary.staleness.p99Ms} ms, max ${summary.staleness.maxMs} ms.`,
  ];
  for (const { rule, count, hints, examples } of summary.violations) {
    const hinted = Object.entries(hints).map(([kind, times]) => `${kind} ${times}`);
    lines.push('', `### ${rule}: ${count}${hinted.length === 0 ? '' : ` (hints: ${hinted.join(', ')})`}`, '');
    lines.push(...examples.map((example) => `- ${describeExample(example)}`));
  }
  return `${lines.join('\n')}\n`;
}
