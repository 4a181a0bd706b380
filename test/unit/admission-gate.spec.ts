import { describe, expect, it } from 'vitest';
import { AdmissionGate } from '../../src/cache/admission-gate.js';
import { CLEARED_TAG } from '../../src/store/tags.js';

// Stamps are handed in: no clock, no DynamoDB.
const HORIZON = 10_000;

describe('the admission gate: what may enter memory, judged from when its operation began', () => {
  it('refuses a value whose operation began before its key changed, and admits one begun after', () => {
    const gate = new AdmissionGate(HORIZON);
    gate.retireKey('k', 100);
    expect(gate.admits(50, 'k', undefined)).toBe(false);
    // A change and a read in the same stamp: the change was first, the read may predate it.
    expect(gate.admits(100, 'k', undefined)).toBe(false);
    expect(gate.admits(101, 'k', undefined)).toBe(true);
    expect(gate.admits(50, 'other', undefined)).toBe(true);
  });

  it('refuses a value that carries a tag invalidated since its operation began', () => {
    const gate = new AdmissionGate(HORIZON);
    gate.retireTags(['a'], 100);
    expect(gate.admits(50, 'k', ['b', 'a'])).toBe(false);
    expect(gate.admits(50, 'k', ['b'])).toBe(true);
    expect(gate.admits(150, 'k', ['a'])).toBe(true);
  });

  it('refuses everything begun before a clear (the cache’s own tag) or a poll backplane’s news', () => {
    const gate = new AdmissionGate(HORIZON);
    gate.retireTags([CLEARED_TAG], 100);
    expect(gate.admits(99, 'k', undefined)).toBe(false);
    gate.retireAll(200);
    expect(gate.admits(150, 'k', undefined)).toBe(false);
    expect(gate.admits(201, 'k', undefined)).toBe(true);
  });

  it('refuses what began before a mark it has forgotten, since it can no longer judge it', () => {
    const gate = new AdmissionGate(1_000);
    gate.retireKey('a', 10_000);
    // A later mark, past the horizon, lets the first one go.
    gate.retireKey('b', 12_000);
    expect(gate.admits(9_000, 'c', undefined)).toBe(false);
    expect(gate.admits(10_001, 'a', undefined)).toBe(true);
  });

  it('keeps marks of every key within the horizon, re-marked keys moving to the back', () => {
    const gate = new AdmissionGate(1_000);
    gate.retireKey('a', 100);
    gate.retireKey('b', 200);
    gate.retireKey('a', 900);
    gate.retireKey('c', 1_250);
    // b (200) is forgotten: older than 1,250 - 1,000. a's newer mark stands.
    expect(gate.retiredSince(800, 'a', undefined)).toBe(true);
    expect(gate.admits(201, 'b', undefined)).toBe(true);
    expect(gate.admits(200, 'b', undefined)).toBe(false);
  });
});
