import { Injectable } from '@nestjs/common';
import type { BackplaneStats } from '../backplane/backplane.js';
import { DynamoCacheRegistry } from '../cache/cache-registry.js';
import type { CircuitState } from '../cache/circuit-breaker.js';
import { DynamoStore } from '../store/dynamo-store.js';

/** What @nestjs/terminus reads of an indicator's answer: `{ [key]: { status, ...details } }`. */
export type DynamoCacheHealthResult<Key extends string = string> = Record<
  Key,
  {
    /** `up`, `down` (DynamoDB did not answer, or a circuit is open) or `degraded` (see `DynamoCacheHealthOptions.degraded`). */
    status: 'up' | 'down' | 'degraded';
  } & DynamoCacheHealthDetails
>;

/** What the health indicator reports beside the status, for a health page or a log. */
export interface DynamoCacheHealthDetails {
  /** How long DynamoDB took to answer the probe, in ms; absent when it did not answer or was not asked. */
  readonly responseTimeMs?: number;
  /** Each cache's circuit breaker in front of DynamoDB. */
  readonly circuits: Record<string, CircuitState>;
  /** The backplane's type, state, lag and (streams) role; absent without a backplane. */
  readonly backplane?: Pick<BackplaneStats, 'type' | 'state' | 'lagMs' | 'role'>;
  /** Why the status is not `up`. */
  readonly message?: string;
  /** False for a memory-only module, which has no DynamoDB to ask. */
  readonly distributed: boolean;
}

/** What `DynamoCacheHealthIndicator.isHealthy(key, options)` takes. */
export interface DynamoCacheHealthOptions {
  /**
   * How long DynamoDB may take to answer the probe before the cache is `down`, in ms.
   * @defaultValue `1000` (1 s)
   */
  timeoutMs?: number;
  /**
   * What a degraded cache (a half-open circuit; a backplane starting, degraded or stopped) reports:
   * `degraded` (Terminus 12: the check passes with status degraded), `up` or `down`.
   * @defaultValue `'degraded'`
   */
  degraded?: 'degraded' | 'up' | 'down';
}

// Read, never written: an app that stored a value under it would only have it read back and dropped.
const PROBE_KEY = 'nest-dynamo-cache:health-probe';

/**
 * A @nestjs/terminus health indicator (it needs nothing of Terminus itself: it returns the result
 * shape Terminus reads): `() => this.cacheHealth.isHealthy('cache')` in a `HealthCheckService.check`.
 * Up when DynamoDB answers a read (one GetItem of a probe key, 0.5 read unit) within `timeoutMs` and
 * every cache's circuit is closed; down when it fails, times out, or a circuit is open (the cache is
 * serving memory and fail-safe values only); degraded while a circuit is half-open or the backplane
 * is not healthy (memory then keeps entries for `memory.maxTtl` only). The backplane's state and lag
 * are in the details either way.
 */
@Injectable()
export class DynamoCacheHealthIndicator {
  constructor(private readonly registry: DynamoCacheRegistry) {}

  /**
   * Probes DynamoDB (one GetItem, bounded by `timeoutMs`) and reads every cache's circuit and the
   * backplane; resolves `{ [key]: { status, ...details } }`, never rejects. `key` names the check in
   * Terminus' answer.
   */
  async isHealthy<const Key extends string>(key: Key, options: DynamoCacheHealthOptions = {}): Promise<DynamoCacheHealthResult<Key>> {
    const timeoutMs = options.timeoutMs ?? 1000;
    const store = this.registry.default.store;
    const probe = store instanceof DynamoStore ? await probeDynamo(store, timeoutMs) : undefined;
    if (probe !== undefined && probe.failure === undefined) await this.probeOpenCircuits();
    const circuits = Object.fromEntries(this.registry.all().map((cache) => [cache.name, cache.circuitState]));
    const backplaneStats = this.registry.backplane?.stats();
    const backplane = backplaneStats && {
      type: backplaneStats.type,
      state: backplaneStats.state,
      lagMs: backplaneStats.lagMs,
      ...(backplaneStats.role === undefined ? {} : { role: backplaneStats.role }),
    };
    const distributed = probe !== undefined;
    const base = { circuits, distributed, ...(backplane === undefined ? {} : { backplane }) };
    const answer = (status: 'up' | 'down' | 'degraded', details: object = {}) =>
      ({ [key]: { status, ...base, ...details } }) as DynamoCacheHealthResult<Key>;
    if (probe === undefined) return answer('up');
    if (probe.failure !== undefined) return answer('down', { message: probe.failure });
    const timing = { responseTimeMs: probe.responseTimeMs };
    const open = Object.keys(circuits).filter((name) => circuits[name] === 'open');
    if (open.length > 0) return answer('down', { ...timing, message: `circuit open for cache ${open.join(', ')}` });
    const halfOpen = Object.keys(circuits).filter((name) => circuits[name] === 'half-open');
    const degradedBy =
      halfOpen.length > 0
        ? `circuit half-open for cache ${halfOpen.join(', ')}`
        : backplane !== undefined && backplane.state !== 'healthy'
          ? `backplane ${backplane.state}`
          : undefined;
    if (degradedBy !== undefined) return answer(options.degraded ?? 'degraded', { ...timing, message: degradedBy });
    return answer('up', timing);
  }

  /**
   * A circuit leaves `open` only through a call made through it. An idle cache (a rarely used named
   * one, or every cache while a readiness probe keeps the pod out of the load balancer) would keep the
   * app down forever once DynamoDB is back: so each circuit whose wait is over is probed here, through
   * its own breaker, with the same read.
   */
  private async probeOpenCircuits(): Promise<void> {
    const now = Date.now();
    await Promise.all(
      this.registry.all().map(async (cache) => {
        const { store } = cache;
        const table = cache.forHealth();
        if (cache.circuitState !== 'open' || table === undefined || table.retryAt > now || !(store instanceof DynamoStore)) return;
        await table.run('health probe', undefined, () => store.getEntry(PROBE_KEY)).catch(() => undefined);
      }),
    );
  }
}

async function probeDynamo(store: DynamoStore, timeoutMs: number): Promise<{ responseTimeMs?: number; failure?: string }> {
  const startedAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`DynamoDB table "${store.tableName}" did not answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    const answered = store.getEntry(PROBE_KEY).then(
      () => undefined,
      (error: unknown) =>
        `DynamoDB table "${store.tableName}": ${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)}`,
    );
    const failure = await Promise.race([answered, timeout]);
    return failure === undefined ? { responseTimeMs: Math.round(performance.now() - startedAt) } : { failure };
  } finally {
    clearTimeout(timer);
  }
}
