import { type DynamicModule, Module } from '@nestjs/common';
import { DynamoCacheModule, type DynamoCacheModuleOptions } from 'nest-dynamo-cache';
import { TerminusModule } from '@nestjs/terminus';
import { NotesModule } from './notes/notes.module.js';
import { HealthController } from './observability/health.controller.js';
import { MetricsController, meterProvider } from './observability/metrics.js';
import { UsersModule } from './users/users.module.js';
import { VisitsController } from './visits/visits.controller.js';
import { WeatherModule } from './weather/weather.module.js';

/** The app takes its cache options from whoever boots it: main.ts from the environment, tests from DynamoDB Local. */
@Module({})
export class AppModule {
  static register(cache: DynamoCacheModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        DynamoCacheModule.forRoot({ ...cache, isGlobal: true, openTelemetry: { meterProvider, traces: false } }),
        TerminusModule.forRoot({ logger: false }),
        WeatherModule,
        UsersModule,
        NotesModule,
      ],
      controllers: [VisitsController, HealthController, MetricsController],
    };
  }
}
