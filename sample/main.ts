import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { configureApp } from './configure-app.js';
import { startDynamoDbLocal } from './dynamodb-local.js';

/**
 * `npm run sample`. With DYNAMODB_ENDPOINT or AWS_REGION set, it uses that DynamoDB (and the table
 * named by CACHE_TABLE, created if missing); with neither, it starts DynamoDB Local in memory first.
 */
async function main() {
  const configured = process.env.DYNAMODB_ENDPOINT ?? (process.env.AWS_REGION ? undefined : null);
  const local = configured === null ? await startDynamoDbLocal() : undefined;
  const endpoint = local?.endpoint ?? configured ?? undefined;
  const app = await NestFactory.create(
    AppModule.register({
      tableName: process.env.CACHE_TABLE ?? 'sample_cache',
      createTableIfNotExists: true,
      endpoint,
      region: process.env.AWS_REGION ?? 'us-east-1',
      ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    }),
  );
  configureApp(app);
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  console.log(`Sample listening on http://localhost:${port} (DynamoDB at ${endpoint ?? `AWS ${process.env.AWS_REGION}`})`);
  console.log(
    `Try: curl -s localhost:${port}/weather/Seattle, curl -s localhost:${port}/health, curl -s localhost:${port}/metrics, curl -si localhost:${port}/users, curl -s -c jar -b jar localhost:${port}/visits`,
  );
  const stop = async () => {
    await app.close();
    await local?.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
