import { type JournalEntry, type JournalHead, isPublished } from './journal.js';
import type { JournalTable } from './journal-table.js';
import type { KeyRouter } from './key-router.js';

/** A follower further behind than this many entries clears its memory rather than read them all. */
export const MAX_CATCH_UP_ENTRIES = 100;

/** What catching up on one lane did: entries applied and invalidations made, or why the lane cannot be followed. */
export type CatchUp =
  | { readonly kind: 'applied'; readonly invalidations: number; readonly readEntries: boolean }
  | { readonly kind: 'lost'; readonly why: string; readonly readEntries: boolean };

/**
 * Applies a lane's journal entries after `from` up to its head, in order: those the heads' read
 * brought (`prefetched`), and the rest read in one more call. A gap (entries expired, or too many)
 * is `lost`: the caller clears memory, since what the gap held is unknown.
 */
export async function catchUpLane(
  journal: JournalTable,
  router: KeyRouter,
  lane: number,
  from: number,
  head: JournalHead,
  prefetched: readonly JournalEntry[],
): Promise<CatchUp> {
  if (head.seq <= from) return { kind: 'applied', invalidations: 0, readEntries: false };
  const wanted = Array.from({ length: head.seq - from }, (_, i) => from + 1 + i);
  if (wanted.length > MAX_CATCH_UP_ENTRIES) return { kind: 'lost', why: `${wanted.length} entries behind`, readEntries: false };
  const found = new Map(prefetched.filter((entry) => isPublished(head, entry)).map((entry) => [entry.seq, entry]));
  const missing = wanted.filter((seq) => !found.has(seq));
  if (missing.length > 0) {
    for (const entry of await journal.readEntries(lane, missing)) if (isPublished(head, entry)) found.set(entry.seq, entry);
  }
  const readEntries = missing.length > 0;
  if (found.size < wanted.length)
    return { kind: 'lost', why: `entries ${wanted.filter((seq) => !found.has(seq)).join(', ')} are gone`, readEntries };
  let invalidations = 0;
  for (const seq of wanted) {
    const entry = found.get(seq)!;
    for (const prefix of entry.clear) if (router.clear(prefix)) invalidations++;
    for (const partitionKey of entry.keys) if (router.apply(partitionKey).dropped) invalidations++;
  }
  return { kind: 'applied', invalidations, readEntries };
}
