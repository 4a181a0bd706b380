import { Controller, Get } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheEvict, Cacheable, DynamoCacheModule } from '../../src/index.js';
import { useCacheTable } from '../support/dynamo.js';

const { client, tableName } = useCacheTable('startup_warnings');
const root = { tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl' };

@WebSocketGateway()
class ChatGateway {
  @SubscribeMessage('history')
  @Cacheable({ ttl: 60_000 })
  history(@MessageBody() room: string) {
    return { room, lines: [] };
  }

  @SubscribeMessage('clear')
  @CacheEvict({ allEntries: true })
  clear() {
    return { cleared: true };
  }
}

@Controller('health')
class HealthController {
  @Get()
  status() {
    return { ok: this.version() };
  }

  @Cacheable({ ttl: 60_000 })
  version() {
    return '1.0';
  }
}

describe('start-up warnings for handlers this library does not cache', () => {
  const warnings: string[] = [];
  let moduleRef: TestingModule;
  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [DynamoCacheModule.forRoot({ ...root, logger: { warn: (message: string) => void warnings.push(message) } })],
      controllers: [HealthController],
      providers: [ChatGateway],
    }).compile();
    await moduleRef.init();
  });
  afterAll(() => moduleRef.close());

  it('warns once of each WebSocket handler marked @Cacheable or @CacheEvict, naming its class and method, and leaves it as it is', () => {
    const gateway = moduleRef.get(ChatGateway);
    expect(warnings.filter((warning) => warning.startsWith('ChatGateway.'))).toEqual([
      'ChatGateway.history: a WebSocket handler (@SubscribeMessage) is not cached by @Cacheable or evicted by @CacheEvict; it runs as it is. Inject the cache and call getOrSet in it.',
      'ChatGateway.clear: a WebSocket handler (@SubscribeMessage) is not cached by @Cacheable or evicted by @CacheEvict; it runs as it is. Inject the cache and call getOrSet in it.',
    ]);
    expect(gateway.history).toBe(ChatGateway.prototype.history);
  });

  it("warns of a controller's method that is no route: Nest's interceptors never see its calls", () => {
    expect(warnings.filter((warning) => warning.startsWith('HealthController.'))).toEqual([
      "HealthController.version: it is neither a route nor a message handler, so Nest's interceptors never see its calls and @Cacheable does nothing. Move it into a provider.",
    ]);
  });
});
