import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { context } from '@opentelemetry/api';
import { type DataPoint, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll } from 'vitest';

/** A reader that exports nothing: the test calls `collect()` and reads the points. */
class TestMetricReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** A meter provider whose points a test collects on demand: `points(name)`, every point of that metric now. */
export function collectingMeterProvider() {
  const reader = new TestMetricReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    meterProvider,
    async points(name: string): Promise<DataPoint<unknown>[]> {
      const { resourceMetrics } = await reader.collect();
      return resourceMetrics.scopeMetrics.flatMap((scope) =>
        scope.metrics.filter((metric) => metric.descriptor.name === name).flatMap((metric) => metric.dataPoints as DataPoint<unknown>[]),
      );
    },
  };
}

/**
 * In-memory OpenTelemetry for one test file: a meter provider with a reader the test collects on
 * demand, a tracer provider that keeps finished spans, and the AsyncLocalStorage context manager
 * (what the Node SDK installs) so that a span started inside another is its child.
 */
export function useInMemoryTelemetry() {
  const { meterProvider, points } = collectingMeterProvider();
  const spans = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  afterAll(async () => {
    context.disable();
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
  });
  return {
    meterProvider,
    tracerProvider,
    spans,
    /** Every point of the metric `name`, as collected now. */
    points,
  };
}

/** The value of the one point whose attributes include `attributes`, 0 when none does. */
export function valueOf(points: DataPoint<unknown>[], attributes: Record<string, unknown>): unknown {
  const matching = points.filter((point) => Object.entries(attributes).every(([name, value]) => point.attributes[name] === value));
  if (matching.length > 1) throw new Error(`${matching.length} points match ${JSON.stringify(attributes)}`);
  return matching[0]?.value ?? 0;
}
