import { CreateTableCommand, GetItemCommand, PutItemCommand, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DynamoStore } from 'nest-dynamo-cache/store';

export interface Note {
  id: string;
  version: number;
  text: string;
}

/**
 * The notes' system of record, which the cache sits in front of: a table of its own (`<cache
 * table>_notes`), read strongly consistent, on the cache's DynamoDB client. Every instance of the app
 * shares it, as instances share a database.
 */
@Injectable()
export class NotesRepository implements OnModuleInit {
  private readonly tableName: string;

  constructor(private readonly cacheStore: DynamoStore) {
    this.tableName = `${cacheStore.tableName}_notes`;
  }

  async onModuleInit(): Promise<void> {
    try {
      await this.cacheStore.client.send(
        new CreateTableCommand({
          TableName: this.tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }

  async find(id: string): Promise<Note | undefined> {
    const { Item } = await this.cacheStore.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { id: { S: id } }, ConsistentRead: true }),
    );
    return Item && { id, version: Number(Item.version!.N), text: Item.text!.S! };
  }

  async save(note: Note): Promise<void> {
    await this.cacheStore.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { id: { S: note.id }, version: { N: String(note.version) }, text: { S: note.text } },
      }),
    );
  }
}
