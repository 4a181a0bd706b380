import { Controller, type INestApplication } from '@nestjs/common';
import {
  type ClientProxy,
  ClientProxyFactory,
  Ctx,
  EventPattern,
  MessagePattern,
  Payload,
  RpcException,
  type TcpContext,
  Transport,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { createServer } from 'node:net';
import { firstValueFrom, from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheEvict, Cacheable, DynamoCacheModule } from '../../src/index.js';
import { useCacheTable } from '../support/dynamo.js';

const { client, tableName } = useCacheTable('microservices');
const root = { tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl' };

/** Counts handler runs, so that a test can tell a cached answer from a computed one. */
const runs: Record<string, number> = {};
const ran = (name: string) => (runs[name] = (runs[name] ?? 0) + 1);
const prices = new Map<string, number>([['apple', 3]]);

@Controller()
class PricesController {
  @MessagePattern('price')
  @Cacheable({ ttl: 60_000, tags: (_price, data: { sku: string }) => [`sku:${data.sku}`] })
  price(@Payload() data: { sku: string }) {
    return { sku: data.sku, price: prices.get(data.sku) ?? 1, run: ran(`price:${data.sku}`) };
  }

  @MessagePattern({ cmd: 'stock', version: 2 })
  @Cacheable({ ttl: 60_000 })
  async stock(@Payload() data: { sku: string; store?: string }) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { sku: data.sku, store: data.store ?? null, run: ran(`stock:${data.sku}:${data.store}`) };
  }

  @MessagePattern(['a.total', 'b.total'])
  @Cacheable({ ttl: 60_000 })
  total(@Payload() amount: number, @Ctx() context: TcpContext) {
    return { pattern: context.getPattern(), amount, run: ran(`total:${context.getPattern()}:${amount}`) };
  }

  @MessagePattern('quote')
  @Cacheable({ ttl: 60_000 })
  async quote(@Payload() data: { sku: string }) {
    if (ran(`quote:${data.sku}`) === 1) throw new RpcException('the supplier is down');
    return { sku: data.sku, run: runs[`quote:${data.sku}`] };
  }

  @MessagePattern('history')
  @Cacheable({ ttl: 60_000 })
  history(@Payload() sku: string) {
    ran(`history:${sku}`);
    return from([1, 2, 3]);
  }

  @EventPattern('price.changed')
  @CacheEvict({ tags: (data: { sku: string }) => [`sku:${data.sku}`] })
  priceChanged(@Payload() data: { sku: string; price: number }) {
    prices.set(data.sku, data.price);
    ran(`changed:${data.sku}`);
  }

  @EventPattern('pear.changed')
  @CacheEvict({ keys: () => ['message "price" {"sku":"pear"}'] })
  pearChanged(@Payload() _data: unknown) {
    ran('changed:pear');
  }

  @EventPattern('audit')
  @Cacheable({ ttl: 60_000 })
  audit(@Payload() data: { what: string }) {
    ran(`audit:${data.what}`);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const warnings: string[] = [];
const logger = { warn: (message: string) => void warnings.push(message) };

describe('@Cacheable on message handlers (TCP)', () => {
  let app: INestApplication;
  let proxy: ClientProxy;
  beforeAll(async () => {
    const port = await freePort();
    const moduleRef = await Test.createTestingModule({
      imports: [DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: 'tcp:', logger })],
      controllers: [PricesController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.connectMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await app.startAllMicroservices();
    await app.init();
    proxy = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await proxy.connect();
  });
  afterAll(async () => {
    await proxy?.close();
    await app?.close();
  });
  const send = <T = Record<string, unknown>>(pattern: unknown, data: unknown) => firstValueFrom(proxy.send<T>(pattern, data));

  it('answers a message from the cache: the handler runs once for one pattern and data', async () => {
    expect(await send('price', { sku: 'apple' })).toEqual({ sku: 'apple', price: 3, run: 1 });
    expect(await send('price', { sku: 'apple' })).toEqual({ sku: 'apple', price: 3, run: 1 });
    expect(await send('price', { sku: 'pear' })).toEqual({ sku: 'pear', price: 1, run: 1 });
    expect([runs['price:apple'], runs['price:pear']]).toEqual([1, 1]);
  });

  it('keys by the data as data (object keys in any order), and by the pattern', async () => {
    await send({ version: 2, cmd: 'stock' }, { store: 'oslo', sku: 'fig' });
    expect(await send({ cmd: 'stock', version: 2 }, { sku: 'fig', store: 'oslo' })).toMatchObject({ run: 1 });
    expect(await send({ cmd: 'stock', version: 2 }, { sku: 'fig', store: 'bergen' })).toMatchObject({ run: 1 });
    expect(runs['stock:fig:oslo']).toBe(1);

    // One handler of two patterns: each pattern has entries of its own.
    expect(await send('a.total', 5)).toEqual({ pattern: 'a.total', amount: 5, run: 1 });
    expect(await send('b.total', 5)).toEqual({ pattern: 'b.total', amount: 5, run: 1 });
    expect(await send('a.total', 5)).toEqual({ pattern: 'a.total', amount: 5, run: 1 });
  });

  it('runs a cold handler once for 20 concurrent messages', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => send({ cmd: 'stock', version: 2 }, { sku: 'kiwi' })));
    expect(answers.every((answer) => answer.run === 1)).toBe(true);
    expect(runs['stock:kiwi:undefined']).toBe(1);
  });

  it('never caches an error: the next message runs the handler again', async () => {
    await expect(send('quote', { sku: 'plum' })).rejects.toMatchObject({ message: 'the supplier is down' });
    expect(await send('quote', { sku: 'plum' })).toEqual({ sku: 'plum', run: 2 });
    expect(await send('quote', { sku: 'plum' })).toEqual({ sku: 'plum', run: 2 });
  });

  it('answers a stream of several values as it came, and stores none of it', async () => {
    expect(await lastValueFrom(proxy.send('history', 'apple').pipe(toArray()))).toEqual([1, 2, 3]);
    expect(await lastValueFrom(proxy.send('history', 'apple').pipe(toArray()))).toEqual([1, 2, 3]);
    expect(runs['history:apple']).toBe(2);
    expect(warnings.some((warning) => warning.startsWith('PricesController.history: ') && warning.includes('3 values'))).toBe(true);
  });

  it('evicts after an @EventPattern handler with @CacheEvict', async () => {
    await send('price', { sku: 'apple' });
    proxy.emit('price.changed', { sku: 'apple', price: 4 });
    await expect.poll(async () => (await send('price', { sku: 'apple' })).price, { timeout: 5_000 }).toBe(4);
    expect(runs['price:apple']).toBe(2);
  });

  it('keys a message by its pattern and data as the README says, for @CacheEvict keys', async () => {
    await send('price', { sku: 'pear' });
    proxy.emit('pear.changed', {});
    await expect.poll(async () => (await send('price', { sku: 'pear' })).run, { timeout: 5_000 }).toBe(2);
  });

  it('never caches an @EventPattern handler: every event reaches it, and start-up said so once', async () => {
    proxy.emit('audit', { what: 'login' });
    proxy.emit('audit', { what: 'login' });
    await expect.poll(() => runs['audit:login'], { timeout: 5_000 }).toBe(2);
    expect(warnings.filter((warning) => warning.startsWith('PricesController.audit: '))).toEqual([
      'PricesController.audit: an @EventPattern handler is never cached (an event has no answer, and each must reach its handler): @Cacheable is ignored; @CacheEvict applies.',
    ]);
  });
});
