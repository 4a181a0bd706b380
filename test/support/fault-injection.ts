import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * Faults DynamoDB Local cannot produce on one chosen call: `hold` parks the answer of the next
 * matching command until released (a read in flight), `failWhen` rejects matching commands as a
 * dropped connection would. The calls that do go through reach DynamoDB Local.
 */
export function faultyClient(client: DynamoDBClient) {
  let held: { command: string; reached: () => void; release: Promise<void> } | undefined;
  let failWhen: ((command: string, input: Record<string, unknown>) => boolean) | undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName as string;
      if (failWhen?.(command, args.input as Record<string, unknown>)) {
        throw Object.assign(new Error(`connection reset during ${command} (injected)`), { name: 'ECONNRESET' });
      }
      const output = await next(args);
      if (held !== undefined && held.command === command) {
        const parked = held;
        held = undefined;
        parked.reached();
        await parked.release;
      }
      return output;
    },
    { step: 'initialize', name: 'injectFaults' },
  );
  return {
    /** Parks the next `command`'s answer; resolves `reached` once it is parked. */
    holdNext(command: string) {
      let release!: () => void;
      let reached!: () => void;
      const parked = new Promise<void>((resolve) => (reached = resolve));
      held = { command, reached, release: new Promise<void>((resolve) => (release = resolve)) };
      return { parked, release };
    },
    failWhen(predicate: typeof failWhen) {
      failWhen = predicate;
    },
  };
}
