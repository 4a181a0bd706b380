import type { INestApplication } from '@nestjs/common';
import session from 'express-session';
import { DynamoSessionStore } from 'nest-dynamo-cache/session';

/** What main.ts and the tests both do to the app: sessions in DynamoDB through express-session. */
export function configureApp(app: INestApplication, secret = process.env.SESSION_SECRET ?? 'sample-only-secret'): INestApplication {
  app.use(
    session({
      store: app.get(DynamoSessionStore) as unknown as session.Store,
      secret,
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 90_000 },
    }),
  );
  return app;
}
