import { DynamoDBClient, type DynamoDBClientResolvedConfig } from '@aws-sdk/client-dynamodb';
import { describeType } from './keys.js';

/**
 * What the store needs of the client it is given: a `DynamoDBClient`, or a `DynamoDBDocumentClient`
 * of @aws-sdk/lib-dynamodb, which holds its client's config and middleware (the store sends it
 * plain DynamoDB commands, which its marshalling leaves alone). Typed by shape, so that an app
 * without lib-dynamodb needs none of its types to compile against ours.
 */
export interface DynamoDBClientLike {
  /** The client's resolved config: where errors and start-up checks say it points, and the service it is for. */
  readonly config: Pick<DynamoDBClientResolvedConfig, 'region' | 'endpoint' | 'credentials'> & {
    /** `'DynamoDB'` for a DynamoDB client (and a DocumentClient, which shares its client's); another service's client is refused. */
    readonly serviceId?: string;
  };
  /** Sends a DynamoDB command; the store aborts it at `operationTimeout`. */
  send(command: never, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  /** Called at shutdown only for a client the store built itself; never for one passed as `client`. */
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
