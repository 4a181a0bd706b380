import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitState } from '../../src/cache/circuit-breaker.js';

function breaker(threshold = 3, durationMs = 1_000) {
  const changes: CircuitState[] = [];
  return { changes, breaker: new CircuitBreaker({ threshold, durationMs, onStateChange: (state) => changes.push(state) }) };
}

describe('the circuit breaker, on a clock the test moves', () => {
  it('opens after `threshold` failures in a row, and not before', () => {
    const { breaker: circuit, changes } = breaker(3);
    circuit.failed(0);
    circuit.failed(0);
    expect(circuit.state).toBe('closed');
    circuit.failed(0);
    expect(circuit.state).toBe('open');
    expect(changes).toEqual(['open']);
  });

  it('lets one probe through once `durationMs` has passed, and skips everything until then', () => {
    const { breaker: circuit } = breaker(1, 1_000);
    circuit.failed(10_000);
    expect(circuit.tryPass(10_999)).toBe(false);
    expect(circuit.tryPass(11_000)).toBe(true);
    expect(circuit.state).toBe('half-open');
    // The probe is under way: nobody else passes.
    expect(circuit.tryPass(11_001)).toBe(false);
  });

  it('closes on a successful probe and reopens for another period on a failed one', () => {
    const { breaker: circuit, changes } = breaker(1, 1_000);
    circuit.failed(0);
    circuit.tryPass(1_000);
    circuit.failed(1_000);
    expect(circuit.state).toBe('open');
    expect(circuit.retryAt).toBe(2_000);
    expect(circuit.tryPass(2_000)).toBe(true);
    circuit.succeeded();
    expect(circuit.state).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('frees the probe of a call that never reached DynamoDB (its input was refused)', () => {
    const { breaker: circuit } = breaker(1, 1_000);
    circuit.failed(0);
    expect(circuit.tryPass(1_000)).toBe(true);
    circuit.abandoned();
    expect(circuit.tryPass(1_000)).toBe(true);
  });

  it('never opens with threshold 0', () => {
    const { breaker: circuit } = breaker(0);
    for (let failure = 0; failure < 100; failure++) circuit.failed(0);
    expect(circuit.state).toBe('closed');
    expect(circuit.tryPass(0)).toBe(true);
  });

  it('counts failures in a row only: a success in between starts the count again', () => {
    const { breaker: circuit } = breaker(2);
    circuit.failed(0);
    circuit.succeeded();
    circuit.failed(0);
    expect(circuit.state).toBe('closed');
  });
});
