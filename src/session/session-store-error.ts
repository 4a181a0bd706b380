/** A session operation that DynamoDB failed, naming the table; the SDK's error, with its `name` and `$metadata`, is the `cause`. */
export class SessionStoreError extends Error {
  /** Always `'SessionStoreError'`: branch on it without importing the class (it survives bundling and a second copy of the package). */
  override readonly name = 'SessionStoreError';
  constructor(
    /** The table that holds the sessions. */
    readonly tableName: string,
    action: string,
    options: { cause: unknown },
  ) {
    super(
      `Session store on DynamoDB table "${tableName}": ${action} failed: ${(options.cause as Error)?.message ?? String(options.cause)}`,
      options,
    );
  }
}

/** The library's own errors already name the table, and keep their `name` for callers that branch on it. */
export function namingTable(tableName: string, action: string, error: unknown): Error {
  if (error instanceof Error && typeof (error as { tableName?: unknown }).tableName === 'string') return error;
  return new SessionStoreError(tableName, action, { cause: error });
}
