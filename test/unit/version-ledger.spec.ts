import { describe, expect, it } from 'vitest';
import { VersionLedger } from '../../src/backplane/version-ledger.js';

describe("the poll backplane's version ledger", () => {
  it("keeps memory when the version moved only by this instance's own bumps", () => {
    const ledger = new VersionLedger(5);
    ledger.bumpStarted();
    expect(ledger.bumpAnswered(6)).toBe('keep');
    expect(ledger.polled(6)).toBe('keep');
    expect(ledger.reflected).toBe(6);
  });

  it("waits, rather than clears, when a poll sees its own bump before the bump's answer", () => {
    const ledger = new VersionLedger(5);
    ledger.bumpStarted();
    expect(ledger.polled(6)).toBe('wait');
    expect(ledger.bumpAnswered(6)).toBe('keep');
  });

  it("clears when another instance bumped between two of this instance's bumps", () => {
    const ledger = new VersionLedger(5);
    ledger.bumpStarted();
    ledger.bumpStarted();
    expect(ledger.bumpAnswered(6)).toBe('keep');
    // 7 was another instance's; this one's second bump made 8.
    expect(ledger.polled(7)).toBe('wait');
    expect(ledger.bumpAnswered(8)).toBe('clear');
    expect(ledger.reflected).toBe(8);
  });

  it("clears at once on another instance's bump when none of its own is unanswered", () => {
    const ledger = new VersionLedger(5);
    expect(ledger.polled(6)).toBe('clear');
    expect(ledger.polled(6)).toBe('keep');
  });

  it("does not take another instance's bump for its own when its own bump failed", () => {
    const ledger = new VersionLedger(5);
    ledger.bumpStarted();
    expect(ledger.polled(6)).toBe('wait');
    expect(ledger.bumpFailed()).toBe('clear');
  });

  it('clears when the version item was deleted (a clear elsewhere) and counts again from 0', () => {
    const ledger = new VersionLedger(9);
    expect(ledger.polled(0)).toBe('clear');
    expect(ledger.reflected).toBe(0);
    ledger.bumpStarted();
    expect(ledger.bumpAnswered(1)).toBe('keep');
  });
});
