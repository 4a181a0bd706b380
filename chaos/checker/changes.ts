import type { History, OpRecord } from '../history.js';
import { type Timeline, firstAtOrAfter, listOf } from './timeline.js';

/**
 * A value put in a key: by `set`, or by a getOrSet factory (stored by the getOrSet that ran it).
 * `start` is the earliest it can have been stamped, `madeBy` the latest its made-at time (`sat`, what
 * tag invalidations are compared with) can be, `end` when it was acknowledged.
 */
export interface Write {
  readonly type: 'write';
  readonly by: 'set' | 'factory';
  readonly key: string;
  readonly value: string;
  readonly tag?: string;
  readonly instance: string;
  /** The set, or the getOrSet whose factory made the value. */
  readonly op: OpRecord;
  readonly start: number;
  readonly madeBy: number;
  /** When its caller was told it was stored; Infinity when it never was (it may land at any time, or never). */
  readonly end: number;
  /** Acknowledged with no DynamoDB failure seen by its instance meanwhile: DynamoDB holds it. */
  readonly durable: boolean;
  /** The earliest instant its ttl can run out (Infinity: a long ttl). */
  readonly expiresFrom: number;
}

/**
 * A del of the key, a deleteByTag of one of its tags, or clear(); or, soft, an expire of the key or an
 * expireByTag of one of its tags.
 */
export interface Invalidation {
  readonly type: 'invalidation';
  readonly op: OpRecord;
  readonly instance: string;
  /** deleteByTag's and expireByTag's tag; undefined for del, expire and clear. */
  readonly tag?: string;
  readonly start: number;
  /** Infinity when it never ended. */
  readonly end: number;
  readonly durable: boolean;
  /**
   * An expiry (expire, expireByTag): what it retires reads as a miss, and a getOrSet runs its factory
   * for it, but it stays the key's fail-safe fallback.
   */
  readonly soft: boolean;
}

const INVALIDATIONS = new Set<OpRecord['kind']>(['del', 'deleteByTag', 'clear', 'expire', 'expireByTag']);
/** The invalidations of one key (the others strike a tag's keys, or every key). */
const ofKey = (op: OpRecord) => op.kind === 'del' || op.kind === 'expire';
const ofTag = (op: OpRecord) => op.kind === 'deleteByTag' || op.kind === 'expireByTag';

export type Change = Write | Invalidation;

/** Every change of every key, indexed for the checker: by value, and per key in order of start. */
export class Changes {
  readonly writesByValue = new Map<string, Write>();
  private readonly byKey = new Map<string, Change[]>();
  private readonly starts = new Map<string, number[]>();
  /** Per key, its invalidations in order of start, and the latest end among each one and those before it. */
  private readonly invalidationStarts = new Map<string, number[]>();
  private readonly invalidationEndsSoFar = new Map<string, number[]>();

  constructor(history: Pick<History, 'ops' | 'factories'>, timeline: Timeline) {
    const ops = new Map(history.ops.map((op) => [op.id, op]));
    const durable = (op: OpRecord) => op.end !== undefined && op.error === undefined && !timeline.sawFailure(op);
    const keyTags = new Map<string, Set<string>>();
    const addWrite = (write: Write) => {
      this.writesByValue.set(write.value, write);
      listOf(this.byKey, write.key).push(write);
      if (write.tag !== undefined) (keyTags.get(write.key) ?? keyTags.set(write.key, new Set()).get(write.key)!).add(write.tag);
    };
    for (const op of history.ops) {
      if (op.kind !== 'set' || op.written === undefined) continue;
      const acknowledged = durable(op);
      addWrite({
        type: 'write',
        by: 'set',
        key: op.keys[0]!,
        value: op.written,
        tag: op.tag,
        instance: op.instance,
        op,
        start: op.start,
        madeBy: op.end ?? Number.POSITIVE_INFINITY,
        end: acknowledged ? op.end! : Number.POSITIVE_INFINITY,
        durable: acknowledged,
        expiresFrom: op.start + (op.ttlMs ?? Number.POSITIVE_INFINITY),
      });
    }
    for (const factory of history.factories) {
      const op = ops.get(factory.op);
      // A loader's key left out was never handed to the cache.
      if (op === undefined || factory.threw || factory.omitted) continue;
      // Stored by the getOrSet (or getOrSetMany) that ran it, before that call returned it.
      const acknowledged = op.values?.[op.keys.indexOf(factory.key)] === factory.value && durable(op);
      addWrite({
        type: 'write',
        by: 'factory',
        key: factory.key,
        value: factory.value,
        tag: op.tag,
        instance: factory.instance,
        op,
        start: op.start,
        madeBy: factory.start,
        end: acknowledged ? op.end! : Number.POSITIVE_INFINITY,
        durable: acknowledged,
        expiresFrom: op.start + (op.ttlMs ?? Number.POSITIVE_INFINITY),
      });
    }
    const keys = [...this.byKey.keys()];
    for (const op of history.ops) {
      if (!INVALIDATIONS.has(op.kind)) continue;
      const invalidation: Invalidation = {
        type: 'invalidation',
        op,
        instance: op.instance,
        tag: ofTag(op) ? op.tag : undefined,
        start: op.start,
        end: op.end ?? Number.POSITIVE_INFINITY,
        // del and expire resolve to false for a key DynamoDB held no live entry of, too; the others only when they
        // failed and nothing is owed (an owed one resolves true, and its failure leaves it not durable).
        durable: durable(op) && (ofKey(op) || op.result === true),
        soft: op.kind === 'expire' || op.kind === 'expireByTag',
      };
      const struck = ofKey(op) ? op.keys : op.kind === 'clear' ? keys : keys.filter((key) => keyTags.get(key)?.has(op.tag!) === true);
      for (const key of struck) listOf(this.byKey, key).push(invalidation);
    }
    for (const [key, changes] of this.byKey) {
      changes.sort((a, b) => a.start - b.start);
      this.starts.set(
        key,
        changes.map((change) => change.start),
      );
      const invalidations = changes.filter((change) => change.type === 'invalidation');
      this.invalidationStarts.set(
        key,
        invalidations.map((change) => change.start),
      );
      let latest = Number.NEGATIVE_INFINITY;
      this.invalidationEndsSoFar.set(
        key,
        invalidations.map((change) => (latest = Math.max(latest, change.end))),
      );
    }
  }

  /** The changes of `key` that began in (after, before), in order of start. */
  *between(key: string, after: number, before: number): Generator<Change> {
    const changes = this.byKey.get(key) ?? [];
    const starts = this.starts.get(key) ?? [];
    for (let index = firstAtOrAfter(starts, after + 1); index < changes.length && changes[index]!.start < before; index++) {
      yield changes[index]!;
    }
  }

  /** The writes of `key` that began after `after`. */
  *writesAfter(key: string, after: number): Generator<Write> {
    for (const change of this.between(key, after, Number.POSITIVE_INFINITY)) if (change.type === 'write') yield change;
  }

  /**
   * Whether a write of `key` other than `write`, begun by `by` and not over before `write` began, may
   * have landed after it and left a value that reads as a miss: one whose ttl may have run out by
   * `by`, or that a deleteByTag or expireByTag of its tag or a clear() begun by `by` may retire.
   * Acknowledged or not: a write that was not may have landed too.
   */
  mayLeaveMiss(key: string, write: Write, by: number): boolean {
    const changes = this.byKey.get(key) ?? [];
    const retired = (other: Write) =>
      changes.some(
        (change) =>
          change.type === 'invalidation' &&
          (change.op.kind === 'clear' || (change.tag !== undefined && change.tag === other.tag)) &&
          change.start <= by &&
          change.end >= other.start,
      );
    return changes.some(
      (other) =>
        other.type === 'write' &&
        other !== write &&
        other.start <= by &&
        other.end >= write.start &&
        (other.expiresFrom <= by || retired(other)),
    );
  }

  /** The latest end of any invalidation of `key` that began by `by` (acknowledged or not); -Infinity: none. */
  lastInvalidationEnd(key: string, by: number): number {
    const starts = this.invalidationStarts.get(key) ?? [];
    const count = firstAtOrAfter(starts, by + 1);
    return count === 0 ? Number.NEGATIVE_INFINITY : this.invalidationEndsSoFar.get(key)![count - 1]!;
  }
}

/**
 * Whether `change` retires the value `write` put: another value written, or a del or expire, that
 * began after the write was acknowledged; a deleteByTag or expireByTag of its tag, or clear(), that
 * began after it was made (an entry made at or before an invalidation of its tag is a miss). Only a
 * durable change counts. An expiry retires the value as fresh only (`Invalidation.soft`).
 */
export function supersedes(change: Change, write: Write): boolean {
  if (!change.durable) return false;
  if (change.type === 'write') return change.value !== write.value && change.start > write.end;
  if (ofKey(change.op)) return change.start > write.end;
  if (change.tag !== undefined && change.tag !== write.tag) return false;
  return change.start > write.madeBy;
}
