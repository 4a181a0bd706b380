import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoCache, FactoryContext } from '../../src/index.js';
import { type OpKind, type OpRecord, type RunOptions, valueOf } from '../history.js';
import { Random } from '../prng.js';
import type { Recorder } from './recorder.js';
import type { WorkloadShape } from './instance-config.js';

/** What a workload factory or loader throws: the one error a getOrSet or getOrSetMany may surface (with nothing to fall back on). */
export class ChaosFactoryError extends Error {
  override readonly name = 'ChaosFactoryError';
}

const LONG_TTL_MS = 600_000;
/** The fail-safe getOrSet's ttl: short, so that its entries expire in a run and fail-safe serves them. */
const SHORT_TTL_MS = 1_500;
const FAILING_FACTORY_CHANCE = 0.4;
/** How often a getOrSetMany loader leaves a key it was asked for out of its answer. */
const OMITTED_KEY_CHANCE = 0.2;

type Begin = Pick<OpRecord, 'keys' | 'tag' | 'written' | 'ttlMs' | 'failSafe'>;
type Outcome = Pick<OpRecord, 'values' | 'result'>;

/**
 * The random contended workload of one instance: `loops` loops, each making one operation after
 * another on keys k0..kN (get, mget, set, getOrSet and getOrSetMany with and without fail-safe, del,
 * deleteByTag, clear, expire, expireByTag), every value written unique and naming its key and write.
 * Each operation is recorded as it begins and as it settles.
 */
export class Workload {
  private stopping = false;
  private written = 0;
  private operations = 0;
  private inFlight = 0;
  private loops: Promise<void>[] = [];
  private readonly keys: string[];

  constructor(
    private readonly cache: DynamoCache,
    private readonly recorder: Recorder,
    private readonly instance: string,
    private readonly seed: number,
    private readonly shape: WorkloadShape,
    private readonly options: RunOptions,
  ) {
    this.keys = Array.from({ length: shape.keys }, (_, index) => `k${index}`);
  }

  start(deadline: number): void {
    const random = new Random(this.seed).derive(this.instance);
    this.loops = Array.from({ length: this.shape.loops }, (_, loop) => this.loop(random.derive(`loop ${loop}`), deadline));
  }

  /** Stops starting operations; resolves to how many were still in flight after `graceMs`. */
  async stop(graceMs: number): Promise<number> {
    this.stopping = true;
    await Promise.race([Promise.all(this.loops), sleep(graceMs)]);
    return this.inFlight;
  }

  private async loop(random: Random, deadline: number): Promise<void> {
    while (!this.stopping && Date.now() < deadline) {
      await this.step(random);
      await sleep(random.int(0, 20));
    }
  }

  private tagOf(key: string): string {
    return `g${Number(key.slice(1)) % this.shape.groups}`;
  }

  private step(random: Random): Promise<void> {
    const roll = random.next();
    const key = random.pick(this.keys);
    const tag = this.tagOf(key);
    if (roll < 0.26)
      return this.run(
        'get',
        { keys: [key] },
        () => this.cache.get<string>(key),
        (value) => ({ values: [value ?? null] }),
      );
    if (roll < 0.34) {
      const keys = random.shuffled(this.keys).slice(0, random.int(2, 4));
      return this.run(
        'mget',
        { keys },
        () => this.cache.mget<string>(keys),
        (values) => ({ values: values.map((value) => value ?? null) }),
      );
    }
    if (roll < 0.48) {
      const written = valueOf(key, this.instance, String(++this.written));
      const entry = { ttl: LONG_TTL_MS, tags: [tag] };
      return this.run(
        'set',
        { keys: [key], written, tag, ttlMs: LONG_TTL_MS },
        () => this.cache.set(key, written, entry),
        () => ({}),
      );
    }
    if (roll < 0.74) {
      const failSafe = roll >= 0.66;
      const { ttl, options } = this.getOrSetOptions(tag, failSafe);
      const runMs = random.int(0, this.options.factoryMaxMs);
      const throws = failSafe && random.chance(FAILING_FACTORY_CHANCE);
      return this.run(
        'getOrSet',
        { keys: [key], tag, ttlMs: ttl, failSafe },
        (id) => this.cache.getOrSet<string>(key, this.factory(id, key, runMs, throws), options),
        (value) => ({ values: [value ?? null] }),
      );
    }
    if (roll < 0.82) return this.getOrSetMany(random, tag, roll >= 0.78);
    if (roll < 0.86)
      return this.run(
        'expire',
        { keys: [key] },
        () => this.cache.expire(key),
        (result) => ({ result }),
      );
    if (roll < 0.88)
      return this.run(
        'expireByTag',
        { keys: [], tag },
        () => this.cache.expireByTag(tag),
        (result) => ({ result }),
      );
    if (roll < 0.94)
      return this.run(
        'del',
        { keys: [key] },
        () => this.cache.del(key),
        (result) => ({ result }),
      );
    if (roll < 0.998)
      return this.run(
        'deleteByTag',
        { keys: [], tag },
        () => this.cache.deleteByTag(tag),
        (result) => ({ result }),
      );
    return this.run(
      'clear',
      { keys: [] },
      () => this.cache.clear(),
      (result) => ({ result }),
    );
  }

  /** A fail-safe call's entries expire within a run, so that fail-safe serves them; a plain call's live long. */
  private getOrSetOptions(tag: string, failSafe: boolean) {
    const ttl = failSafe ? SHORT_TTL_MS : LONG_TTL_MS;
    const fallback = { failSafe, failSafeThrottleDuration: this.options.failSafeThrottleMs, failSafeMaxDuration: 60_000 };
    return { ttl, options: failSafe ? { ttl, tags: [tag], ...fallback } : { ttl, tags: [tag] } };
  }

  /** 2 to 4 keys of one tag (the call's tags are every key's), some of which the loader leaves out. */
  private getOrSetMany(random: Random, tag: string, failSafe: boolean): Promise<void> {
    const group = this.keys.filter((key) => this.tagOf(key) === tag);
    const keys = random.shuffled(group).slice(0, random.int(2, 4));
    const { ttl, options } = this.getOrSetOptions(tag, failSafe);
    const runMs = random.int(0, this.options.factoryMaxMs);
    const throws = failSafe && random.chance(FAILING_FACTORY_CHANCE);
    const omits = keys.map(() => random.chance(OMITTED_KEY_CHANCE));
    const asMap = random.chance(0.5);
    return this.run(
      'getOrSetMany',
      { keys, tag, ttlMs: ttl, failSafe },
      (id) => this.cache.getOrSetMany<string>(keys, this.loader(id, keys, omits, runMs, throws, asMap), options),
      (values) => ({ values: values.map((value) => value ?? null) }),
    );
  }

  /** A factory that takes `runMs` and returns a fresh value (or throws), recorded as it begins and ends. */
  private factory(op: string, key: string, runMs: number, throws: boolean) {
    return async (_context: FactoryContext<string>): Promise<string> => {
      const value = valueOf(key, this.instance, `f${++this.written}`);
      this.recorder.write({ t: 'factory', instance: this.instance, op, key, value, start: Date.now() });
      await sleep(runMs);
      this.recorder.write({ t: 'factory-end', value, end: Date.now(), ...(throws ? { threw: true } : {}) });
      if (throws) throw new ChaosFactoryError(`the factory of ${key} failed (injected)`);
      return value;
    };
  }

  /**
   * A loader that takes `runMs` and answers a fresh value for each key it is asked for, but those
   * `omits` marks for `keys` (left out of a Map, or undefined in an array), or throws. Each key asked
   * is recorded as a factory run, its value made (and named) whether or not the loader hands it over.
   */
  private loader(op: string, keys: readonly string[], omits: readonly boolean[], runMs: number, throws: boolean, asMap: boolean) {
    return async (missing: readonly string[]): Promise<ReadonlyMap<string, string> | Array<string | undefined>> => {
      const made = missing.map((key) => ({
        key,
        value: valueOf(key, this.instance, `f${++this.written}`),
        omitted: omits[keys.indexOf(key)],
      }));
      const start = Date.now();
      for (const { key, value } of made) this.recorder.write({ t: 'factory', instance: this.instance, op, key, value, start });
      await sleep(runMs);
      const end = Date.now();
      for (const { value, omitted } of made) {
        const failure = throws ? { threw: true } : omitted ? { omitted: true } : {};
        this.recorder.write({ t: 'factory-end', value, end, ...failure });
      }
      if (throws) throw new ChaosFactoryError(`the loader of ${missing.join(', ')} failed (injected)`);
      const answered = made.map(({ value, omitted }) => (omitted ? undefined : value));
      if (!asMap) return answered;
      return new Map(made.flatMap(({ key }, index) => (answered[index] === undefined ? [] : [[key, answered[index]!] as const])));
    };
  }

  private async run<T>(kind: OpKind, begin: Begin, call: (id: string) => Promise<T>, outcome: (value: T) => Outcome): Promise<void> {
    const id = `${this.instance}:${++this.operations}`;
    const circuitAtStart = this.cache.circuitState;
    const start = Date.now();
    this.recorder.write({ t: 'begin', id, instance: this.instance, kind, ...begin, start });
    this.inFlight++;
    try {
      const value = await call(id);
      this.recorder.write({ t: 'end', id, end: Date.now(), circuit: [circuitAtStart, this.cache.circuitState], ...outcome(value) });
    } catch (error) {
      const name = (error as Error)?.name ?? 'Error';
      const expectedError = error instanceof ChaosFactoryError;
      this.recorder.write({
        t: 'end',
        id,
        end: Date.now(),
        circuit: [circuitAtStart, this.cache.circuitState],
        error: name,
        expectedError,
      });
    } finally {
      this.inFlight--;
    }
  }
}
