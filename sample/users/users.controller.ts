import { Controller, Delete, Get, HttpCode } from '@nestjs/common';
import { CacheEvict, Cacheable } from 'nest-dynamo-cache';
import { UsersService } from './users.service.js';

/** A named cache ('users') behind @Cacheable, and a route that empties it with @CacheEvict. */
@Controller('users')
@Cacheable({ cache: 'users', ttl: 60_000 })
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  list() {
    return this.users.fetchAll();
  }

  @Delete('cache')
  @HttpCode(204)
  @CacheEvict({ allEntries: true })
  clear() {
    return undefined;
  }
}
