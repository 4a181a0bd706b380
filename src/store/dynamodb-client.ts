import { DynamoDBClient, type DynamoDBClientResolvedConfig } from '@aws-sdk/client-dynamodb';
import { describeType } from './keys.js';

/**
 * What the store needs of the client it is given: a `DynamoDBClient`, or a `DynamoDBDocumentClient`
 * of @aws-sdk/lib-dynamodb, which holds its client's config and middleware (the store sends it
 * plain DynamoDB commands, which its marshalling leaves alone). Typed by shape, so that an app
 * without lib-dynamodb needs none of its types to compile against ours.
 */
export interface DynamoDBClientLike {
  readonly config: Pick<DynamoDBClientResolvedConfig, 'region' | 'endpoint' | 'credentials'> & { readonly serviceId?: string };
  send(command: never, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy(): void;
}

/** The `serviceId` of a DynamoDB client's config, which a DocumentClient shares; another service's client has its own. */
const DYNAMODB_SERVICE_ID = 'DynamoDB';

/**
 * Why `value` cannot be the store's client, or undefined when it can. Told by shape rather than
 * `instanceof`, which a DocumentClient fails, and so does a DynamoDBClient of another copy of the SDK.
 */
export function clientProblem(value: unknown): string | undefined {
  if (value instanceof DynamoDBClient) return undefined;
  const candidate = value as Partial<DynamoDBClientLike> | null | undefined;
  if (typeof candidate?.send !== 'function' || typeof candidate.destroy !== 'function' || typeof candidate.config?.region !== 'function') {
    return `got ${describeType(value)}, which is no AWS SDK v3 client`;
  }
  const service = candidate.config.serviceId;
  return service === DYNAMODB_SERVICE_ID
    ? undefined
    : `got a client of ${service === undefined ? 'an unknown service' : `service "${service}"`}`;
}
