import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/**
 * Runs a conditional write (or several) and resolves to whether its condition held: a failed
 * condition is an answer (a lease taken, a later tag time there, a value changed since it was read),
 * not an error. Any other failure rejects as it came.
 */
export async function conditionHeld(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
