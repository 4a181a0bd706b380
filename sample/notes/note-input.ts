import { BadRequestException } from '@nestjs/common';
import type { Note } from './notes.repository.js';

// A note, not a file: DynamoDB refuses items past 400 KB, and the cache keeps a copy of each note too.
const MAX_TEXT_CHARACTERS = 10_000;
// Ids go into the notes table's partition key (at most 2048 bytes) and into a cache key; short and plain keeps URLs and logs readable.
const NOTE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The note's id from the path, or a 400 that says what an id may be. */
export function checkedNoteId(id: string): string {
  if (!NOTE_ID.test(id))
    throw new BadRequestException(
      `id must be 1 to 64 letters, digits, "-" or "_", got ${JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id)}.`,
    );
  return id;
}

/**
 * The note a PUT asks to save, or a 400 that names the field at fault: without it, a missing
 * version became NaN and DynamoDB's ValidationException a 500.
 */
export function noteFromBody(id: string, body: unknown): Note {
  checkedNoteId(id);
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new BadRequestException('The body must be a JSON object { version, text }.');
  const { version, text } = body as Record<string, unknown>;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0)
    throw new BadRequestException(`version must be a whole number >= 0, got ${shown(version)}.`);
  if (typeof text !== 'string') throw new BadRequestException(`text must be a string, got ${shown(text)}.`);
  if (text.length > MAX_TEXT_CHARACTERS)
    throw new BadRequestException(`text must be at most ${MAX_TEXT_CHARACTERS} characters, got ${text.length}.`);
  return { id, version, text };
}

const shown = (value: unknown) => (value === undefined ? 'undefined' : JSON.stringify(value));
