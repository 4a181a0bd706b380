import {
  type CacheErrorRecord,
  type ChaosMode,
  type FactoryRecord,
  type FaultRecord,
  type History,
  type InstanceRecord,
  type OpKind,
  type OpRecord,
  RUN_OPTIONS,
} from '../../chaos/history.js';

/** The runs' own options: B is 2,000 ms without a backplane, 3,500 ms with one. */
export const OPTIONS = RUN_OPTIONS;

type Timing = readonly [start: number, end?: number];
type Extra = Partial<Omit<OpRecord, 'id' | 'instance' | 'kind' | 'start' | 'end'>>;

/**
 * Hand-made histories for the checker's unit tests: each call records one operation on an instance
 * (`i0`, `i1`, …) at [start, end] ms from the run's start. Keys `kN` carry the tag `gN`.
 */
export class HistoryBuilder {
  private readonly ops: OpRecord[] = [];
  private readonly factories: FactoryRecord[] = [];
  private readonly errors: CacheErrorRecord[] = [];
  private readonly faults: FaultRecord[] = [];
  private readonly instances = new Map<string, InstanceRecord>();
  private count = 0;

  constructor(private readonly mode: ChaosMode = 'none') {}

  private op(instance: string, kind: OpKind, [start, end]: Timing, extra: Extra): OpRecord {
    if (!this.instances.has(instance)) this.instances.set(instance, { id: instance, startedAt: 0, closeMs: 10 });
    const op: OpRecord = {
      id: `${instance}:${++this.count}`,
      instance,
      kind,
      start,
      ...(end === undefined ? {} : { end }),
      keys: [],
      ...extra,
    };
    this.ops.push(op);
    return op;
  }

  set(instance: string, key: string, value: string, timing: Timing, extra: Extra = {}): OpRecord {
    return this.op(instance, 'set', timing, { keys: [key], written: value, tag: tagOf(key), ttlMs: 600_000, ...extra });
  }

  get(instance: string, key: string, value: string | null, timing: Timing, extra: Extra = {}): OpRecord {
    return this.op(instance, 'get', timing, { keys: [key], values: [value], ...extra });
  }

  mget(instance: string, keys: string[], values: Array<string | null>, timing: Timing): OpRecord {
    return this.op(instance, 'mget', timing, { keys, values });
  }

  /** A getOrSet that returned `value`; with `factory`, its own factory made `factory.value` over [start, end]. */
  getOrSet(
    instance: string,
    key: string,
    value: string | null,
    timing: Timing,
    factory?: { value: string; at: Timing; threw?: boolean },
    extra: Extra = {},
  ): OpRecord {
    const op = this.op(instance, 'getOrSet', timing, { keys: [key], values: [value], tag: tagOf(key), ttlMs: 600_000, ...extra });
    if (factory !== undefined) {
      const [start, end] = factory.at;
      this.factories.push({
        instance,
        op: op.id,
        key,
        value: factory.value,
        start,
        ...(end === undefined ? {} : { end }),
        threw: factory.threw,
      });
    }
    return op;
  }

  /**
   * A getOrSetMany that returned `values`, its keys' tag that of the first; with `loader`, its own
   * loader ran over `at` for the keys `made` names (their values), leaving out those in `omitted` (or
   * failing for all of them).
   */
  getOrSetMany(
    instance: string,
    keys: string[],
    values: Array<string | null>,
    timing: Timing,
    loader?: { made: Record<string, string>; at: Timing; omitted?: string[]; threw?: boolean },
    extra: Extra = {},
  ): OpRecord {
    const op = this.op(instance, 'getOrSetMany', timing, { keys, values, tag: tagOf(keys[0]!), ttlMs: 600_000, ...extra });
    if (loader !== undefined) {
      const [start, end] = loader.at;
      for (const [key, value] of Object.entries(loader.made)) {
        const omitted = loader.omitted?.includes(key) === true;
        this.factories.push({
          instance,
          op: op.id,
          key,
          value,
          start,
          ...(end === undefined ? {} : { end }),
          threw: loader.threw,
          omitted,
        });
      }
    }
    return op;
  }

  del(instance: string, key: string, timing: Timing, extra: Extra = {}): OpRecord {
    return this.op(instance, 'del', timing, { keys: [key], result: true, ...extra });
  }

  deleteByTag(instance: string, tag: string, timing: Timing, extra: Extra = {}): OpRecord {
    return this.op(instance, 'deleteByTag', timing, { tag, result: true, ...extra });
  }

  expire(instance: string, key: string, timing: Timing, extra: Extra = {}): OpRecord {
    return this.op(instance, 'expire', timing, { keys: [key], result: true, ...extra });
  }

  expireByTag(instance: string, tag: string, timing: Timing, extra: Extra = {}): OpRecord {
    return this.op(instance, 'expireByTag', timing, { tag, result: true, ...extra });
  }

  clear(instance: string, timing: Timing, extra: Extra = {}): OpRecord {
    return this.op(instance, 'clear', timing, { result: true, ...extra });
  }

  /** The instance's cache reported a DynamoDB failure at `at`. */
  cacheError(instance: string, at: number, name = 'OperationTimeoutError'): this {
    this.errors.push({ instance, at, name });
    return this;
  }

  fault(fault: FaultRecord): this {
    this.faults.push(fault);
    return this;
  }

  instance(record: InstanceRecord): this {
    this.instances.set(record.id, record);
    return this;
  }

  build(): History {
    return {
      config: { mode: this.mode, seed: 1, durationMs: 30_000, instances: this.instances.size, startedAt: 0, options: OPTIONS },
      instances: [...this.instances.values()],
      ops: this.ops,
      factories: this.factories,
      errors: this.errors,
      faults: this.faults,
    };
  }
}

export const tagOf = (key: string) => `g${key.slice(1)}`;
