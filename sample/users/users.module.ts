import { Module } from '@nestjs/common';
import { DynamoCacheModule } from 'nest-dynamo-cache';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [DynamoCacheModule.forFeature({ name: 'users', ttl: 60_000 })],
  controllers: [UsersController],
  providers: [UsersService],
})
export class UsersModule {}
