import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { DynamoCacheHealthIndicator } from 'nest-dynamo-cache';

/** `/health`: 200 while DynamoDB answers within 500 ms and no circuit is open, 503 otherwise. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly cache: DynamoCacheHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.cache.isHealthy('cache', { timeoutMs: 500 })]);
  }
}
