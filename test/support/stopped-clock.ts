import { afterEach, vi } from 'vitest';

/**
 * A clock that only the test moves, for an expiry or window that calls would otherwise have to beat
 * in real time (a busy machine can stall a process for longer than a short TTL). Only `Date` is
 * faked, and the cache reads `Date.now()` for every expiry decision; timers, sockets and the AWS
 * SDK keep real time, and DynamoDB Local does not check the date a request is signed with.
 *
 * The clock stops a minute ahead of real time: the TTL attributes of items written meanwhile then
 * lie in DynamoDB Local's real future, so its TTL sweep (on real time) deletes nothing a test still
 * reads, and the skew stays inside the 5 minutes after which the SDK corrects its signing clock.
 * Stop it before the test writes what it checks (an entry written earlier would look a minute
 * older), and not where something must end by `Date.now()` meanwhile (seenWithin, a backplane's
 * lag): it stands until moved. Real time comes back after each test.
 */
export function useStoppedClock(): { stop(): number; advance(ms: number): number; moveTo(instant: number): void } {
  afterEach(() => {
    vi.useRealTimers();
  });
  return {
    /** Stops the clock; returns the instant it shows. */
    stop() {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 60_000 });
      return Date.now();
    },
    /** Moves the stopped clock on by `ms`; returns the instant it shows. */
    advance(ms: number) {
      vi.setSystemTime(Date.now() + ms);
      return Date.now();
    },
    /** Sets the stopped clock to `instant`. */
    moveTo(instant: number) {
      vi.setSystemTime(instant);
    },
  };
}
