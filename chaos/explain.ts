import { readFileSync } from 'node:fs';
import type { History } from './history.js';

/**
 * `node .build/chaos/chaos/explain.js <history.json> <key> <from ms> <to ms>`: every operation of a
 * run on one key (and the deleteByTag, expireByTag and clear calls that reach it), the factories that made its
 * values and the faults, between two instants (ms from the run's start): to read a violation's story.
 */
const [path, key, from = '0', to = 'Infinity'] = process.argv.slice(2);
if (path === undefined || key === undefined) {
  console.error('usage: explain <history.json> <key> [from ms] [to ms]');
  process.exit(2);
}
const history = JSON.parse(readFileSync(path, 'utf8')) as History;
const t0 = history.config.startedAt;
const within = (start: number, end = start) => end - t0 >= Number(from) && start - t0 <= Number(to);
const tags = new Set(history.ops.filter((op) => op.keys.includes(key) && op.tag !== undefined).map((op) => op.tag));
const lines: Array<[number, string]> = [];
for (const op of history.ops) {
  const byTag = op.kind === 'deleteByTag' || op.kind === 'expireByTag';
  const reaches = op.keys.includes(key) || op.kind === 'clear' || (byTag && tags.has(op.tag));
  if (!reaches || !within(op.start, op.end ?? Infinity)) continue;
  const index = op.keys.indexOf(key);
  const what = op.written ?? (index >= 0 && op.values !== undefined ? `→ ${op.values[index] ?? 'undefined'}` : (op.tag ?? ''));
  const outcome = [op.result === undefined ? '' : `= ${op.result}`, op.error ?? '', op.circuit?.join('/') ?? ''].filter(Boolean).join(' ');
  lines.push([op.start, `${op.start - t0}..${op.end === undefined ? '…' : op.end - t0} ${op.id} ${op.kind} ${what} ${outcome}`]);
}
for (const factory of history.factories) {
  if (factory.key !== key || !within(factory.start, factory.end)) continue;
  lines.push([
    factory.start,
    `${factory.start - t0}..${(factory.end ?? NaN) - t0} factory of ${factory.op} makes ${factory.value}` +
      `${factory.threw ? ' (throws)' : ''}${factory.omitted ? ' (left out)' : ''}`,
  ]);
}
for (const fault of history.faults) {
  if (within(fault.start, fault.end))
    lines.push([fault.start, `${fault.start - t0}..${fault.end - t0} FAULT ${fault.kind} ${fault.instance ?? 'dynamodb'}`]);
}
for (const error of history.errors)
  if (within(error.at)) lines.push([error.at, `${error.at - t0} ${error.instance} cache:error ${error.name}`]);
for (const [, line] of lines.sort((a, b) => a[0] - b[0])) console.log(line);
