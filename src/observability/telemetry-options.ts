import { InvalidOptionError } from '../store/errors.js';
import type { OpenTelemetryOptions } from './open-telemetry.js';

export type { OpenTelemetryOptions };

const KNOWN = new Set(['metrics', 'traces', 'recordKeys', 'meterProvider', 'tracerProvider']);

/** `openTelemetry: true` is every signal on the global providers; false or absent is off. A wrong value names itself. */
export function resolveOpenTelemetryOptions(value: unknown): OpenTelemetryOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (value === null || typeof value !== 'object') {
    throw new InvalidOptionError(
      'openTelemetry',
      `must be true, false or { metrics, traces, recordKeys, meterProvider, tracerProvider }, got ${String(value)}.`,
    );
  }
  const options = value as Record<string, unknown>;
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) throw new InvalidOptionError(`openTelemetry.${name}`, `is not an option; known: ${[...KNOWN].join(', ')}.`);
  }
  for (const name of ['metrics', 'traces', 'recordKeys']) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') {
      throw new InvalidOptionError(`openTelemetry.${name}`, `must be a boolean, got ${JSON.stringify(options[name])}.`);
    }
  }
  for (const [name, method] of [
    ['meterProvider', 'getMeter'],
    ['tracerProvider', 'getTracer'],
  ] as const) {
    const provider = options[name] as Record<string, unknown> | undefined;
    if (provider !== undefined && typeof provider?.[method] !== 'function') {
      throw new InvalidOptionError(`openTelemetry.${name}`, `must be an OpenTelemetry ${name} (an object with ${method}()).`);
    }
  }
  return options as OpenTelemetryOptions;
}
