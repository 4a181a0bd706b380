/** Injects the default DynamoCache: `constructor(@Inject(CACHE) private readonly cache: DynamoCache) {}` */
export const CACHE = 'NEST_DYNAMO_CACHE';
