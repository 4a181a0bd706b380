import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Controller, Get, type INestApplication, Req } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import session from 'express-session';
import { promisify } from 'node:util';
import request from 'supertest';
import { DynamoCache } from '../../src/index.js';
import { type DynamoSessionOptions, DynamoSessionStore, type SessionData } from '../../src/entries/session.js';
import { DynamoStore } from '../../src/entries/store.js';
import { afterAll, afterEach } from 'vitest';
import { localClient, memoryLogger, recordCommands, cacheTableAttributes } from '../support/dynamo.js';
import { cacheModule } from '../support/builders.js';

export const ONE_DAY_MS = 86_400_000;

/** A DynamoSessionStore on its own prefix, with its callback methods as promises. */
export function sessionStore(tableName: string, client: DynamoDBClient, prefix: string, options: DynamoSessionOptions = {}) {
  const logger = memoryLogger();
  const cache = new DynamoCache(new DynamoStore({ tableName, client, ...cacheTableAttributes, partitionKeyPrefix: prefix, logger }), {
    memory: false,
  });
  const store = new DynamoSessionStore({ cache, ...options });
  return {
    store,
    cache,
    logger,
    get: promisify(store.get.bind(store)) as (sid: string) => Promise<SessionData | null>,
    set: promisify(store.set.bind(store)) as (sid: string, session: SessionData) => Promise<void>,
    touch: promisify(store.touch.bind(store)) as (sid: string, session: SessionData) => Promise<void>,
    destroy: promisify(store.destroy.bind(store)) as (sid: string) => Promise<void>,
    all: promisify(store.all.bind(store)) as () => Promise<Record<string, SessionData>>,
    length: promisify(store.length.bind(store)) as () => Promise<number>,
    clear: promisify(store.clear.bind(store)) as () => Promise<void>,
  };
}

/** express-session's cookie as a store receives it (JSON: `maxAge` is a getter and not kept). */
export const cookie = (maxAge: number) => ({
  originalMaxAge: maxAge,
  expires: new Date(Date.now() + maxAge).toISOString(),
  httpOnly: true,
  path: '/',
});

type SessionRequest = { session: session.Session & Record<string, unknown> };

@Controller()
class SessionController {
  @Get('login')
  login(@Req() req: SessionRequest) {
    req.session.user = 'ada';
    return { user: 'ada' };
  }

  @Get('me')
  me(@Req() req: SessionRequest) {
    return { user: req.session.user ?? null };
  }

  /** How express-session apps end a session without destroying it: the cookie's maxAge set to 0, nothing else changed. */
  @Get('end')
  end(@Req() req: SessionRequest) {
    req.session.cookie.maxAge = 0;
    return { ended: true };
  }

  /** The same, with a change to the session, so that express-session saves rather than touches it. */
  @Get('end-and-save')
  endAndSave(@Req() req: SessionRequest) {
    req.session.cookie.maxAge = 0;
    req.session.endedAt = Date.now();
    return { ended: true };
  }
}

export interface SessionAppOptions {
  tableName: string;
  client: DynamoDBClient;
  /** The module's `session` option; none leaves it out of forRoot. */
  session?: DynamoSessionOptions;
  cookieMaxAge?: number;
  rolling?: boolean;
  imports?: Parameters<typeof Test.createTestingModule>[0]['imports'];
}

/** A Nest app with express-session on DynamoSessionStore (`resave: false`), and its routes. */
export async function sessionApp(options: SessionAppOptions): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      cacheModule({ tableName: options.tableName, client: options.client }, { ...(options.session && { session: options.session }) }),
      ...(options.imports ?? []),
    ],
    controllers: [SessionController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  app.use(
    session({
      store: app.get(DynamoSessionStore) as unknown as session.Store,
      secret: 'session-tests',
      resave: false,
      saveUninitialized: false,
      rolling: options.rolling ?? false,
      cookie: { maxAge: options.cookieMaxAge ?? 60_000 },
    }),
  );
  await app.init();
  return app;
}

/** Logs in, and resolves to the session cookie to send back and the session's id. */
export async function logIn(app: INestApplication): Promise<{ cookie: string; sid: string }> {
  const response = await request(app.getHttpServer()).get('/login').expect(200);
  const sent = response.headers['set-cookie'] as unknown as string[];
  const cookieHeader = sent[0]!.split(';')[0]!;
  // connect.sid=s:<id>.<signature>, URI-encoded.
  const sid = /^s:([^.]+)\./.exec(decodeURIComponent(cookieHeader.split('=')[1]!))![1]!;
  return { cookie: cookieHeader, sid };
}

/** Who the app says is logged in for that cookie. */
export async function whoIs(app: INestApplication, sessionCookie: string): Promise<string | null> {
  return (await request(app.getHttpServer()).get('/me').set('Cookie', sessionCookie).expect(200)).body.user;
}

/** The writes among recorded commands. */
export const writesIn = (sent: readonly string[]) => sent.filter((name) => name === 'UpdateItemCommand' || name === 'PutItemCommand');

/**
 * For a describe block of apps: a client whose commands are recorded in `sent`, and `start`, which
 * builds a session app on it and closes it after the test.
 */
export function useSessionApps(tableName: string) {
  const counted = localClient();
  const sent = recordCommands(counted);
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(() => counted.destroy());
  return {
    sent,
    start: async (options: Omit<SessionAppOptions, 'tableName' | 'client'>) =>
      (app = await sessionApp({ tableName, client: counted, ...options })),
  };
}
