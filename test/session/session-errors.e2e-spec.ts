import { describe, expect, it } from 'vitest';
import { localClient } from '../support/dynamo.js';
import { sessionStore } from './session-support.js';

describe('DynamoSessionStore errors', () => {
  it('name the table, for each operation that can fail, and in the warnings of reads and touches', async () => {
    // Nothing listens on port 1: every call fails at once, as with DynamoDB unreachable.
    const unreachable = localClient({ endpoint: 'http://127.0.0.1:1', maxAttempts: 1 });
    const sessions = sessionStore('sessions_unreachable', unreachable, 'x1:');
    const failures = await Promise.all([
      sessions.set('abc', { cookie: {}, user: 'ada' }).catch((error: Error) => error),
      sessions.destroy('abc').catch((error: Error) => error),
      sessions.all().catch((error: Error) => error),
      sessions.length().catch((error: Error) => error),
      sessions.clear().catch((error: Error) => error),
    ]);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toContain('table "sessions_unreachable"');
    }
    // The cache's DynamoDB tier reported each failure once, and its circuit breaker opened after
    // five in a row (logged once): the read and the touch below are skipped, not sent. A read that
    // fails is an error (readFailure: 'fail'), so express-session keeps the user's cookie; a touch
    // that fails keeps the session's expiry and is no error.
    await expect(sessions.get('abc')).rejects.toThrow(
      /table "sessions_unreachable".*reading session "abc…"|table "sessions_unreachable".*circuit breaker/,
    );
    await sessions.touch('abc', { cookie: {} });
    expect(sessions.cache.circuitState).toBe('open');
    const { warnings } = sessions.logger;
    expect(warnings).toHaveLength(6);
    for (const warning of warnings) expect(warning).toContain('sessions_unreachable');
    // With the circuit open a save is refused at once, naming the table.
    await expect(sessions.set('abc', { cookie: {} })).rejects.toThrow(/table "sessions_unreachable".*circuit breaker/);
    unreachable.destroy();
  });

  it("read as no session with readFailure: 'anonymous'", async () => {
    const unreachable = localClient({ endpoint: 'http://127.0.0.1:1', maxAttempts: 1 });
    const sessions = sessionStore('sessions_unreachable', unreachable, 'x2:', { readFailure: 'anonymous' });
    expect(await sessions.get('abc')).toBeNull();
    unreachable.destroy();
  });
});

describe('session ids in errors and logs', () => {
  it('show only their first characters: an id is a credential', async () => {
    const unreachable = localClient({ endpoint: 'http://127.0.0.1:1', maxAttempts: 1 });
    const sessions = sessionStore('sessions_unreachable', unreachable, 'x3:');
    const sid = 'abcdefSECRETPART0123456789abcdef';
    const failure = (await sessions.set(sid, { cookie: {}, user: 'ada' }).catch((error: Error) => error)) as Error;
    expect(failure.message).toContain('saving session "abcdef…"');
    expect(failure.message).not.toContain('SECRETPART');
    expect(sessions.logger.warnings.join('\n')).not.toContain('SECRETPART');
    expect(sessions.logger.warnings.length).toBeGreaterThan(0);
    unreachable.destroy();
  });
});
