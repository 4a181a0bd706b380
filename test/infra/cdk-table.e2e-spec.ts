import { CreateTableCommand, type DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoCachePermission } from '../../infra/cdk/dynamo-cache-policy.js';
import { DynamoSessionStore } from '../../src/entries/session.js';
import {
  CACHE,
  type CacheEvent,
  type DynamoCache,
  DynamoCacheModule,
  type DynamoCacheModuleOptions,
  DynamoCacheRegistry,
} from '../../src/index.js';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  dynamoEndpoint,
  localClient,
  memoryLogger,
  recordCommands,
  useTableNames,
} from '../support/dynamo.js';
import { PERMISSIONS, type Policy, enforcePolicy } from '../support/iam-policy.js';
import { seenWithin } from '../support/seen-within.js';
import {
  type ResolvedStatement,
  type Template,
  actionsOf,
  grantedStatements,
  leadingKeyPrefixes,
  managedPolicyId,
  policyStatements,
  synthesizeExampleStack,
  synthesizeTable,
  tableDefinition,
} from './cdk-template.js';

/**
 * The table as code, run: the CDK stack is synthesized in-process, DynamoDB Local is given the table
 * its template describes (as CloudFormation would create it), and the module starts on it with
 * `createTableIfNotExists: false` and the template's names, on clients that refuse every action the
 * synthesized policies do not allow, as IAM would.
 */
const MAX_LAG = 10_000;
/** The item actions: what start-up may send with the names given, none of them a control-plane call. */
const DATA_PLANE = new Set<string>(PERMISSIONS.production);
const tableName = useTableNames();
const example = synthesizeExampleStack();
const apps: INestApplication[] = [];
const clients: Array<{ destroy(): void }> = [];
afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  for (const client of clients) client.destroy();
});

type TableDefinition = ReturnType<typeof tableDefinition>;

/** Creates the table as CloudFormation would from the template, with an admin client of its own. */
async function createFromTemplate(template: Template, parameters: Record<string, string> = {}): Promise<TableDefinition> {
  const definition = tableDefinition(template, parameters);
  const admin = localClient({}, 'admin');
  try {
    await admin.send(new CreateTableCommand(definition.create));
    await admin.send(new UpdateTimeToLiveCommand({ TableName: definition.create.TableName, TimeToLiveSpecification: definition.ttl }));
  } finally {
    admin.destroy();
  }
  return definition;
}

/** The policy enforcePolicy holds a client to, from synthesized statements: their actions and LeadingKeys condition. */
function policyFrom(statements: readonly ResolvedStatement[], partitionKeyName: string): Policy {
  const prefixes = leadingKeyPrefixes(statements);
  return { actions: actionsOf(statements), ...(prefixes && { leadingKeys: { attribute: partitionKeyName, prefixes } }) };
}

const examplePolicy = (...permissions: DynamoCachePermission[]) =>
  permissions.flatMap((permission) => policyStatements(example.template, managedPolicyId(example.stack, permission)));

/**
 * A Nest app on the table, its DynamoDB client held to `policy` and, with the streams backplane, its
 * streams client held to `streamsPolicy`; what each client sent before `app.init()` resolved is kept.
 */
async function instance(options: Partial<DynamoCacheModuleOptions> & { tableName: string }, policy: Policy, streamsPolicy?: Policy) {
  const client = localClient({}, 'admin');
  const denied = enforcePolicy(client, policy);
  const sent = recordCommands(client);
  clients.push(client);
  let streams: DynamoDBStreamsClient | undefined;
  let streamsSent: string[] = [];
  if (streamsPolicy !== undefined) {
    streams = new DynamoDBStreamsClient({ endpoint: dynamoEndpoint(), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    denied.push(...enforcePolicy(streams as unknown as DynamoDBClient, streamsPolicy));
    streamsSent = recordCommands(streams as unknown as DynamoDBClient);
    clients.push(streams);
  }
  const { backplane, ...rest } = options;
  const moduleRef = await Test.createTestingModule({
    imports: [
      DynamoCacheModule.forRoot({
        client,
        createTableIfNotExists: false,
        throwOnErrors: true,
        logger: memoryLogger(),
        session: {},
        ...rest,
        ...(backplane && { backplane: backplane.type === 'streams' ? { ...backplane, client: streams } : backplane }),
      }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  apps.push(app);
  await app.init();
  const atStartUp = {
    dynamodb: sent.map((name) => name.replace(/Command$/, '')),
    streams: streamsSent.map((name) => name.replace(/Command$/, '')),
  };
  return { app, denied, atStartUp, cache: app.get<DynamoCache>(CACHE), sessions: app.get(DynamoSessionStore) };
}

const promisified = <T>(call: (callback: (error: unknown, value?: T) => void) => void) =>
  new Promise<T | undefined>((resolve, reject) => call((error, value) => (error ? reject(error) : resolve(value))));

/** A value set on `a` is read on `b` (into its memory), changed on `a`, and the change seen on `b` within the bound. */
async function changeSeenAcross(a: Awaited<ReturnType<typeof instance>>, b: Awaited<ReturnType<typeof instance>>) {
  await a.cache.set('price', 10, 60_000);
  expect(await b.cache.get('price')).toBe(10);
  await a.cache.set('price', 11, 60_000);
  expect(await seenWithin(() => b.cache.get('price'), 11, MAX_LAG)).toBeLessThan(MAX_LAG);
  await promisified((done) => a.sessions.set('sid-1', { cookie: {}, user: 'ada' } as never, done));
  expect(await promisified((done) => b.sessions.get('sid-1', done))).toMatchObject({ user: 'ada' });
}

describe("the table as code: the CDK stack's table runs the cache", () => {
  let table: TableDefinition;
  beforeAll(async () => {
    table = await createFromTemplate(example.template, { TableName: tableName('cdk_example') });
  });
  const names = () => ({
    tableName: table.create.TableName!,
    partitionKeyName: table.partitionKeyName,
    ttlAttributeName: table.ttlAttributeName,
  });

  it('with the names from the template, start-up makes no control-plane call, and the streams backplane reads its stream', async () => {
    const items = policyFrom(examplePolicy('items'), table.partitionKeyName);
    const streams = policyFrom(examplePolicy('streams'), table.partitionKeyName);
    const backplane = { type: 'streams', pollInterval: 200, maxLag: MAX_LAG } as const;
    const a = await instance({ ...names(), backplane }, items, streams);
    const b = await instance({ ...names(), backplane }, items, streams);

    // The journal's lane, its saved position: items of the table. No DescribeTable, DescribeTimeToLive or any other table call.
    for (const started of [a, b]) expect(started.atStartUp.dynamodb.filter((name) => !DATA_PLANE.has(name))).toEqual([]);
    // The instance elected to read the stream found it (ListStreams, DescribeStream) and opened its shards.
    expect([...a.atStartUp.streams, ...b.atStartUp.streams]).toEqual(
      expect.arrayContaining(['ListStreams', 'DescribeStream', 'GetShardIterator']),
    );

    const invalidated: string[] = [];
    b.cache.on('cache:invalidated', (event: CacheEvent) => invalidated.push(event.key!));
    await changeSeenAcross(a, b);
    expect(invalidated).toContain('price');
    expect(b.app.get(DynamoCacheRegistry).backplane!.stats()).toMatchObject({ type: 'streams', state: 'healthy' });
    expect([...a.denied, ...b.denied]).toEqual([]);
  });

  it('with the names from the template and no backplane, start-up sends nothing at all', async () => {
    const started = await instance(names(), policyFrom(examplePolicy('items'), table.partitionKeyName));
    expect(started.atStartUp.dynamodb).toEqual([]);
    await started.cache.set('k', 'v');
    expect(await started.cache.get('k')).toBe('v');
    expect(started.denied).toEqual([]);
  });

  it('with the names left out, start-up describes the table and its TTL, which the StartupChecks policy allows', async () => {
    const policy = policyFrom(examplePolicy('items', 'startupChecks'), table.partitionKeyName);
    const started = await instance({ tableName: table.create.TableName! }, policy);
    expect(started.atStartUp.dynamodb).toEqual(['DescribeTable', 'DescribeTimeToLive']);
    await started.cache.set('k', 'v');
    expect(await started.cache.get('k')).toBe('v');
    expect(started.denied).toEqual([]);
  });
});

describe('the table as code: a single-table design from the construct, with the poll backplane', () => {
  it("runs under grantCache's policy, confined to its prefix, with no control-plane call at start-up", async () => {
    const { stack, template } = synthesizeTable(
      { tableName: tableName('cdk_single'), partitionKeyName: 'PK', ttlAttributeName: 'expires', sortKeyName: 'SK' },
      { App: { partitionKeyPrefix: 'shop:' } },
    );
    const table = await createFromTemplate(template);
    const policy = policyFrom(grantedStatements(template, stack, 'App'), table.partitionKeyName);
    expect(policy.leadingKeys).toEqual({ attribute: 'PK', prefixes: ['shop:'] });
    const options = {
      tableName: table.create.TableName!,
      partitionKeyName: table.partitionKeyName,
      ttlAttributeName: table.ttlAttributeName,
      sortKeyName: table.sortKeyName,
      partitionKeyPrefix: 'shop:',
      backplane: { type: 'poll', interval: 100, maxLag: MAX_LAG },
    } as const;
    const a = await instance(options, policy);
    const b = await instance(options, policy);
    expect(a.atStartUp.dynamodb.filter((name) => !DATA_PLANE.has(name))).toEqual([]);
    await changeSeenAcross(a, b);
    expect([...a.denied, ...b.denied]).toEqual([]);
  });
});
