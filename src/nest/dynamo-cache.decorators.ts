import { Inject } from '@nestjs/common';
import { getCacheToken } from './dynamo-cache.constants.js';

/** `constructor(@InjectCache('weather') private readonly weather: DynamoCache) {}`; no name: the default cache. */
export const InjectCache = (name?: string): ParameterDecorator & PropertyDecorator => Inject(getCacheToken(name));
