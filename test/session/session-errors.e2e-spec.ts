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
    expect(await sessions.get('abc')).toBeNull();
    await sessions.touch('abc', { cookie: {} });
    const { warnings } = sessions.cache.store.opts.logger as unknown as { warnings: string[] };
    expect(warnings).toHaveLength(2);
    for (const warning of warnings) expect(warning).toContain('table "sessions_unreachable"');
    unreachable.destroy();
  });
});
