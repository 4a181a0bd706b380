import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { localClient, useCacheTable } from '../support/dynamo.js';
import { faultyClient } from '../support/fault-injection.js';
import { logIn, sessionApp, whoIs } from './session-support.js';

const { tableName } = useCacheTable('session_outage');
let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('express-session through a DynamoDB outage', () => {
  it("fails a logged-in user's request rather than replace their cookie, and keeps the login for after the outage", async () => {
    const client = localClient();
    const faults = faultyClient(client);
    app = await sessionApp({ tableName, client, session: {} });
    const { cookie } = await logIn(app);
    // A fault DynamoDB Local cannot produce on demand: every call fails as a dropped connection.
    faults.failWhen(() => true);
    const during = await request(app.getHttpServer()).get('/me').set('Cookie', cookie);
    expect(during.status).toBe(500);
    expect(during.headers['set-cookie']).toBeUndefined();
    faults.failWhen(undefined);
    // The circuit the outage opened closes on the next probe; the same cookie is still logged in.
    await expect.poll(() => whoIs(app!, cookie), { timeout: 30_000, interval: 200 }).toBe('ada');
  });

  it("answers as logged out, and may replace the cookie, with readFailure: 'anonymous'", async () => {
    const client = localClient();
    const faults = faultyClient(client);
    app = await sessionApp({ tableName, client, session: { readFailure: 'anonymous' } });
    const { cookie } = await logIn(app);
    faults.failWhen(() => true);
    const during = await request(app.getHttpServer()).get('/me').set('Cookie', cookie).expect(200);
    expect(during.body.user).toBeNull();
    faults.failWhen(undefined);
  });
});
