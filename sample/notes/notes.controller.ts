import { Body, Controller, Get, NotFoundException, Param, Put } from '@nestjs/common';
import { CacheEvict, Cacheable } from 'nest-dynamo-cache';
import { checkedNoteId, noteFromBody } from './note-input.js';
import { type Note, NotesRepository } from './notes.repository.js';

const noteKey = (request: { params: { id: string } }) => `note:${request.params.id}`;

/**
 * Cache-aside in front of a database: reads are cached for 5 s; a write goes to the database, then
 * evicts the note's entry. Another instance may serve the old note until its memory tier's bound
 * (`memory.maxTtl`, 5 s) passes; docs/getting-started.md, *The sample app*, gives the staleness bound.
 */
@Controller('notes')
export class NotesController {
  constructor(private readonly notes: NotesRepository) {}

  @Get(':id')
  @Cacheable({ key: noteKey, ttl: 5_000 })
  async find(@Param('id') id: string): Promise<Note> {
    const note = await this.notes.find(checkedNoteId(id));
    if (note === undefined) throw new NotFoundException(`No note ${id}`);
    return note;
  }

  @Put(':id')
  @CacheEvict({ keys: (request: { params: { id: string } }) => [noteKey(request)] })
  async save(@Param('id') id: string, @Body() body: unknown): Promise<Note> {
    const note = noteFromBody(id, body);
    await this.notes.save(note);
    return note;
  }
}
