import type { Histogram, Meter, Observable, ObservableCounter, ObservableGauge } from '@opentelemetry/api';

/** Every instrument the bridge reports, by what it measures (names and units listed in the README). */
export interface InstrumentNames {
  readonly lookups: ObservableCounter;
  readonly memoryEntries: ObservableGauge;
  readonly memorySize: ObservableGauge;
  readonly circuitState: ObservableGauge;
  readonly consumedCapacity: ObservableCounter;
  readonly backplaneLag: ObservableGauge;
  readonly backplaneState: ObservableGauge;
  readonly backplaneRole: ObservableGauge;
  readonly backplaneInvalidations: ObservableCounter;
  readonly backplaneFailedReads: ObservableCounter;
  readonly owedChanges: ObservableGauge;
  readonly droppedChanges: ObservableCounter;
  readonly factoryDuration: Histogram;
  readonly operationDuration: Histogram;
  /** The observable ones, read together by one batch callback. */
  readonly observables: Observable[];
}

// The semantic conventions' advice for db.client.operation.duration, in seconds.
const DB_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];
// A factory calls an upstream: from a millisecond to its hard timeout's order of seconds.
const FACTORY_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createInstruments(meter: Meter): InstrumentNames {
  const observables = {
    lookups: meter.createObservableCounter('dynamo_cache.lookups', {
      description: 'Lookups per cache, tier (memory, dynamodb) and result (hit, miss, stale)',
      unit: '{lookup}',
    }),
    memoryEntries: meter.createObservableGauge('dynamo_cache.memory.entries', {
      description: "Entries in the cache's memory tier",
      unit: '{entry}',
    }),
    memorySize: meter.createObservableGauge('dynamo_cache.memory.size', { description: "The memory tier's size", unit: 'By' }),
    circuitState: meter.createObservableGauge('dynamo_cache.circuit.state', {
      description: "1 for the circuit breaker's current state (closed, half-open, open), 0 for the others",
      unit: '1',
    }),
    consumedCapacity: meter.createObservableCounter('dynamo_cache.dynamodb.consumed_capacity', {
      description: 'Capacity units DynamoDB billed (with returnConsumedCapacity), by type (read, write)',
      unit: '{capacity_unit}',
    }),
    owedChanges: meter.createObservableGauge('dynamo_cache.auto_recovery.owed', {
      description: 'Changes acknowledged while DynamoDB could not take them, not sent yet (auto-recovery)',
      unit: '{change}',
    }),
    droppedChanges: meter.createObservableCounter('dynamo_cache.auto_recovery.dropped', {
      description: 'Owed changes dropped to keep within autoRecovery.maxItems',
      unit: '{change}',
    }),
    backplaneLag: meter.createObservableGauge('dynamo_cache.backplane.lag', {
      description: 'How long ago the backplane last read everything there was to read: the staleness bound in force',
      unit: 's',
    }),
    backplaneState: meter.createObservableGauge('dynamo_cache.backplane.state', {
      description: "1 for the backplane's current state (starting, healthy, degraded, stopped), 0 for the others",
      unit: '1',
    }),
    // Side by side across instances, the roles show whether anyone reads the stream (with no reader, every lag grows).
    backplaneRole: meter.createObservableGauge('dynamo_cache.backplane.role', {
      description:
        "Streams backplane: 1 for this instance's current role (reader: reads the stream and publishes the journal; follower: reads the journal), 0 for the other",
      unit: '1',
    }),
    backplaneInvalidations: meter.createObservableCounter('dynamo_cache.backplane.invalidations', {
      description: 'Memory copies dropped because another instance changed them',
      unit: '{invalidation}',
    }),
    backplaneFailedReads: meter.createObservableCounter('dynamo_cache.backplane.failed_reads', {
      description: 'Backplane read cycles that failed',
      unit: '{read}',
    }),
  };
  return {
    ...observables,
    factoryDuration: meter.createHistogram('dynamo_cache.factory.duration', {
      description: 'Duration of get-or-set factory runs (misses and background refreshes)',
      unit: 's',
      advice: { explicitBucketBoundaries: FACTORY_DURATION_BUCKETS },
    }),
    operationDuration: meter.createHistogram('db.client.operation.duration', {
      description: 'Duration of DynamoDB calls, after the SDK retries',
      unit: 's',
      advice: { explicitBucketBoundaries: DB_DURATION_BUCKETS },
    }),
    observables: Object.values(observables),
  };
}
