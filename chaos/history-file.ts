import { readFileSync } from 'node:fs';
import type { CacheErrorRecord, FactoryRecord, OpRecord } from './history.js';

/**
 * The lines an instance appends to its history file: an operation's `begin` as it starts and its
 * `end` as it settles (an operation whose instance was killed has no end), a factory's start and end,
 * and each DynamoDB failure its cache reported.
 */
export type HistoryLine =
  | ({ readonly t: 'begin' } & Omit<OpRecord, 'end' | 'values' | 'result' | 'error' | 'expectedError' | 'circuit'>)
  | ({ readonly t: 'end'; readonly id: string } & Pick<OpRecord, 'end' | 'values' | 'result' | 'error' | 'expectedError' | 'circuit'>)
  | ({ readonly t: 'factory' } & Omit<FactoryRecord, 'end' | 'threw' | 'omitted'>)
  | ({ readonly t: 'factory-end'; readonly value: string } & Required<Pick<FactoryRecord, 'end'>> &
      Pick<FactoryRecord, 'threw' | 'omitted'>)
  | ({ readonly t: 'error' } & CacheErrorRecord);

export interface InstanceHistory {
  readonly ops: OpRecord[];
  readonly factories: FactoryRecord[];
  readonly errors: CacheErrorRecord[];
}

/** Reads history files back into records, an operation's begin and end joined. */
export function readHistoryFiles(paths: readonly string[]): InstanceHistory {
  const ops = new Map<string, OpRecord>();
  const factories = new Map<string, FactoryRecord>();
  const errors: CacheErrorRecord[] = [];
  for (const path of paths) {
    for (const text of readFileSync(path, 'utf8').split('\n')) {
      if (text === '') continue;
      const { t, ...line } = JSON.parse(text) as HistoryLine;
      if (t === 'begin') ops.set((line as OpRecord).id, line as OpRecord);
      else if (t === 'end') {
        const { id, ...end } = line as { id: string } & Partial<OpRecord>;
        const begun = ops.get(id);
        if (begun !== undefined) ops.set(id, { ...begun, ...end });
      } else if (t === 'factory') factories.set((line as FactoryRecord).value, line as FactoryRecord);
      else if (t === 'factory-end') {
        const { value, ...end } = line as { value: string; end: number; threw?: boolean; omitted?: boolean };
        const begun = factories.get(value);
        if (begun !== undefined) factories.set(value, { ...begun, ...end });
      } else errors.push(line as CacheErrorRecord);
    }
  }
  return { ops: [...ops.values()], factories: [...factories.values()], errors };
}
