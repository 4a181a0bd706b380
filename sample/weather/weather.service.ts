import { Inject, Injectable } from '@nestjs/common';
import { CACHE, type DynamoCache } from 'nest-dynamo-cache';

export interface Forecast {
  city: string;
  days: Array<{ date: string; summary: string; temperatureC: number }>;
  computedAt: string;
}

const SUMMARIES = ['Freezing', 'Bracing', 'Chilly', 'Cool', 'Mild', 'Warm', 'Balmy', 'Hot', 'Sweltering', 'Scorching'];
const ONE_DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The example from AWS's announcement of its DynamoDB distributed cache: a forecast that is slow to
 * compute, so every instance behind the load balancer shares one copy for a day.
 */
@Injectable()
export class WeatherService {
  /** How many forecasts were really computed; the e2e test reads it to see the cache at work. */
  computed = 0;

  constructor(@Inject(CACHE) private readonly cache: DynamoCache) {}

  forecast(city: string): Promise<Forecast> {
    return this.cache.wrap(`forecast:${city.toLowerCase()}`, () => this.compute(city), ONE_DAY_MS);
  }

  private async compute(city: string): Promise<Forecast> {
    this.computed += 1;
    await new Promise((resolve) => setTimeout(resolve, 500)); // stands for a slow upstream model
    const today = Date.now();
    return {
      city,
      days: Array.from({ length: 5 }, (_, day) => ({
        date: new Date(today + day * ONE_DAY_MS).toISOString().slice(0, 10),
        summary: SUMMARIES[Math.floor(Math.random() * SUMMARIES.length)]!,
        temperatureC: Math.round(Math.random() * 75 - 20),
      })),
      computedAt: new Date(today).toISOString(),
    };
  }
}
