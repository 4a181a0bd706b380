import { Injectable } from '@nestjs/common';

export interface User {
  id: number;
  name: string;
  email: string;
}

/**
 * The example of the Redis IDistributedCache tutorial, on DynamoDB: a list of users from an upstream
 * that takes its time. The controller caches what this returns.
 */
@Injectable()
export class UsersService {
  /** How many times the upstream was really called; the e2e test reads it. */
  upstreamCalls = 0;

  async fetchAll(): Promise<User[]> {
    this.upstreamCalls += 1;
    await new Promise((resolve) => setTimeout(resolve, 300)); // stands for a slow upstream API
    return ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'].map((name, index) => ({
      id: index + 1,
      name,
      email: `${name.split(' ')[0]!.toLowerCase()}@example.com`,
    }));
  }
}
