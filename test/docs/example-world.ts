import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TestingModule } from '@nestjs/testing';
import type { DynamoCache } from 'nest-dynamo-cache';

// What the examples of README.md and docs/ take as given, declared so that they compile: the objects an
// example is shown with (an injected cache, a client, the app's module) and the app's own services and data.
// A block that uses one of these names without declaring or importing it gets it from here (example-checker.ts).
// Nothing here is run.

// What an example is shown with.

/** The cache at hand: `@Inject(CACHE) private readonly cache: DynamoCache`, or `memoryCache()` in a test. */
export declare const cache: DynamoCache;
export declare const client: DynamoDBClient;
export declare const moduleRef: TestingModule;
export declare class AppModule {}
/** express-session's and @fastify/session's cookie secret. */
export declare const secret: string;
/** Some metrics client of the app's. */
export declare const metrics: {
  increment(name: string, attributes?: Record<string, unknown>): void;
  add(name: string, value: number, attributes?: Record<string, unknown>): void;
};

// @nestjs/config, which this repository does not install: the two names the examples use, as it types them.
export declare class ConfigModule {}
export declare class ConfigService {
  getOrThrow<T = any>(propertyPath: string): Exclude<T, undefined>;
}

// The app's own data and services.

export interface User {
  id: number;
  name: string;
  email: string;
}
export interface UserUpdate {
  name?: string;
  email?: string;
}
export interface Report {
  title: string;
  userIds: number[];
}
export interface Forecast {
  city: string;
  days: Array<{ date: string; summary: string; temperatureC: number }>;
}
export declare const id: string;
export declare const ids: number[];
export declare const html: string;
export declare const data: Report;
export declare const state: Record<string, unknown>;
export declare const hugeReport: Buffer;
export declare function computeForecast(city: string): Promise<Forecast>;
export declare function currentConditions(city: string): Promise<{ city: string; temperatureC: number }>;
export declare function buildReport(id: string): Promise<Report>;
export declare function build(): Report;
export declare function loadOrders(userId: number): Promise<Array<{ id: number; total: number }>>;
export declare function fetchRates(): Promise<{ rates: Record<string, number>; maxAgeSeconds: number }>;
/** An ORM's client. */
export declare const db: { users: { findMany(query: { where: { id: { in: string[] } } }): Promise<User[]> } };
export declare class UsersRepository {
  findOneBy(where: { id: string }): Promise<User | null>;
}
export declare class UsersService {
  find(id: number): Promise<User>;
}
export declare class PricesService {
  find(sku: string): Promise<{ sku: string; cents: number }>;
}

// A GraphQL schema's types.

export declare class Book {
  id: string;
  title: string;
}
export declare class Reader {
  id: string;
  name: string;
}
export declare class Review {
  id: string;
  stars: number;
}
export declare class BooksService {
  findOne(id: string): Promise<Book>;
}
