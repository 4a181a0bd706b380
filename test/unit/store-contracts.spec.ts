import { describe, expectTypeOf, it } from 'vitest';
import type { StoreCoordination } from '../../src/store/coordination.js';
import type { DynamoStore } from '../../src/store/dynamo-store.js';
import type { EntryStore } from '../../src/store/entry-store.js';
import type { MemoryStore } from '../../src/store/memory-store.js';

// The classes do not say `implements`: their internal members are stripped from the published
// declarations, where such a clause would no longer hold. The typecheck of this file holds them to it.
describe('the two stores', () => {
  it('each hold entries and coordinate (leases, tag times, the version counter) as the cache expects', () => {
    expectTypeOf<DynamoStore>().toExtend<EntryStore & StoreCoordination>();
    expectTypeOf<MemoryStore>().toExtend<EntryStore & StoreCoordination>();
  });
});
