/**
 * The one small client every store of the single table is built on: the table's name, the
 * expiry (TTL) of what it keeps, conditional writes that say whether they applied, and reads that
 * page through everything with the SDK's paginators (a hand-written loop once read one page only).
 * No transactions: dynalite has none, and every effect here is one conditional write.
 */
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  paginateQuery,
  paginateScan,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
  type ScanCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../resources.ts';

export interface TableOptions {
  readonly tableName: string;
  /** Messages and raw events expire this many days after they arrive (ST-1). */
  readonly retentionDays: number;
  /** The business's IANA time zone (SCRM_TIME_ZONE): the reports' aggregates count its days and hours. */
  readonly timeZone?: string | undefined;
}

export type Item = Record<string, unknown>;
export type Key = { readonly pk: string; readonly sk: string };

const DAY_MS = 86_400_000;

export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** DynamoDB refused the request itself (a key or an item over its limits): retrying cannot help. */
export function isValidationError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationException';
}

const KEY_ATTRIBUTES = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', TABLE.ttlAttribute]);

/** An item without its key attributes, sets as arrays: the plain record the domain sees. */
export function stripKeys<T>(item: Item): T {
  const out: Item = {};
  for (const [key, value] of Object.entries(item)) {
    if (KEY_ATTRIBUTES.has(key)) continue;
    out[key] = value instanceof Set ? [...value] : value;
  }
  return out as T;
}

export interface UpdateRequest {
  readonly update: string;
  readonly condition?: string | undefined;
  readonly names?: Record<string, string> | undefined;
  readonly values?: Record<string, unknown> | undefined;
  readonly returnValues?: UpdateCommandInput['ReturnValues'];
}

export class TableClient {
  constructor(
    readonly db: DynamoDBDocumentClient,
    readonly options: TableOptions,
  ) {}

  get name(): string {
    return this.options.tableName;
  }

  /** The TTL attribute value (epoch seconds) of something that arrived at `from` (ms). */
  expiresAt(from: number): number {
    return Math.floor((from + this.options.retentionDays * DAY_MS) / 1000);
  }

  async get<T>(key: Key, projection?: readonly string[]): Promise<T | undefined> {
    const result = await this.db.send(
      new GetCommand({
        TableName: this.name,
        Key: key,
        ConsistentRead: true,
        ...(projection && {
          ProjectionExpression: projection.map((_, i) => `#p${i}`).join(', '),
          ExpressionAttributeNames: Object.fromEntries(projection.map((field, i) => [`#p${i}`, field])),
        }),
      }),
    );
    return result.Item ? stripKeys<T>(result.Item) : undefined;
  }

  /** Writes an item; with a condition, false when the condition did not hold (nothing written). */
  async put(item: Item, condition?: string, values?: Record<string, unknown>): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({ TableName: this.name, Item: item, ...(condition && { ConditionExpression: condition }), ...(values && { ExpressionAttributeValues: values }) }),
      );
      return true;
    } catch (error) {
      if (condition && isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async delete(key: Key): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.name, Key: key }));
  }

  /**
   * One UpdateItem. `applied` is false when its condition did not hold (nothing changed);
   * `attributes` are the returned values when `returnValues` asks for them.
   */
  async update(key: Key, request: UpdateRequest): Promise<{ applied: boolean; attributes?: Item | undefined }> {
    const values = request.values && Object.keys(request.values).length ? request.values : undefined;
    const names = request.names && Object.keys(request.names).length ? request.names : undefined;
    try {
      const result = await this.db.send(
        new UpdateCommand({
          TableName: this.name,
          Key: key,
          UpdateExpression: request.update,
          ...(request.condition && { ConditionExpression: request.condition }),
          ...(names && { ExpressionAttributeNames: names }),
          ...(values && { ExpressionAttributeValues: values }),
          ...(request.returnValues && { ReturnValues: request.returnValues }),
        }),
      );
      return { applied: true, attributes: result.Attributes };
    } catch (error) {
      if (request.condition && isConditionalCheckFailed(error)) return { applied: false };
      throw error;
    }
  }

  /** Strongly consistent batch read; keys DynamoDB leaves unprocessed (throttling) are read one by one. */
  async batchGet(keys: readonly Key[], projection: string): Promise<Item[]> {
    const chunks: Key[][] = [];
    for (let i = 0; i < keys.length; i += 100) chunks.push(keys.slice(i, i + 100));
    const pages = await Promise.all(
      chunks.map(async (chunk) => {
        const result = await this.db.send(
          new BatchGetCommand({ RequestItems: { [this.name]: { Keys: chunk, ConsistentRead: true, ProjectionExpression: projection } } }),
        );
        const items = [...(result.Responses?.[this.name] ?? [])];
        for (const key of result.UnprocessedKeys?.[this.name]?.Keys ?? []) {
          const item = await this.db.send(new GetCommand({ TableName: this.name, Key: key, ConsistentRead: true, ProjectionExpression: projection }));
          if (item.Item) items.push(item.Item);
        }
        return items;
      }),
    );
    return pages.flat();
  }

  /** Every item a query matches, page after page. */
  async *query(input: Omit<QueryCommandInput, 'TableName'>): AsyncGenerator<Item> {
    for await (const page of paginateQuery({ client: this.db }, { ...input, TableName: this.name })) {
      yield* page.Items ?? [];
    }
  }

  async queryAll<T>(input: Omit<QueryCommandInput, 'TableName'>): Promise<T[]> {
    const items: T[] = [];
    for await (const item of this.query(input)) items.push(stripKeys<T>(item));
    return items;
  }

  /**
   * One segment of a parallel scan, page by page, from `startKey` on. Each page comes with the
   * key to resume after it (undefined once the segment is done), so a long scan can stop and
   * carry on where it was.
   */
  async *scanPages(
    input: Omit<ScanCommandInput, 'TableName' | 'ExclusiveStartKey'>,
    startKey?: Item,
  ): AsyncGenerator<{ items: Item[]; next: Item | undefined }> {
    const paginator = paginateScan(
      { client: this.db, ...(startKey && { startingToken: startKey }) },
      { ...input, TableName: this.name },
    );
    for await (const page of paginator) yield { items: page.Items ?? [], next: page.LastEvaluatedKey };
  }
}
