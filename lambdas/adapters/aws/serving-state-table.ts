import { ConditionalCheckFailedException, type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type ServingState, type ServingStateStore, StateConflictError, servingStateSchema } from '../../core/serving-state.js';

/** The one item's key: the environment's serving state. */
const KEY = { pk: { S: 'serving-state' } };

/** The serving state item cannot be read: it names the table and the fix. */
export class ServingStateTableError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ServingStateTableError';
  }
}

/**
 * The serving state in the environment's DynamoDB table: one item holding the state as JSON
 * and its version, written only over the version it was read at (a conditional put), so two
 * changes made at once cannot lose one. A read is strongly consistent: a change is seen by the
 * next read of any function.
 */
export class DynamoServingStateStore implements ServingStateStore {
  public constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly table: string,
  ) {}

  public async load(): Promise<ServingState | undefined> {
    const { Item } = await this.dynamo.send(new GetItemCommand({ TableName: this.table, Key: KEY, ConsistentRead: true }));
    const text = Item?.state?.S;
    if (text === undefined) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new ServingStateTableError(`The serving state in table ${this.table} is not JSON; restore the table to a point in time before it was written (point-in-time recovery is on).`, { cause: error });
    }
    const parsed = servingStateSchema.safeParse(json);
    if (!parsed.success) throw new ServingStateTableError(`The serving state in table ${this.table} does not hold a serving state (${parsed.error.issues[0]?.message ?? 'invalid'}); restore the table to a point in time before it was written.`);
    return parsed.data;
  }

  public async save(next: ServingState, expected: number | undefined): Promise<void> {
    try {
      await this.dynamo.send(
        new PutItemCommand({
          TableName: this.table,
          Item: { ...KEY, config_version: { N: String(next.config_version) }, updated_by: { S: next.updated_by }, state: { S: JSON.stringify(next) } },
          ...(expected === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'config_version = :expected', ExpressionAttributeValues: { ':expected': { N: String(expected) } } }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new StateConflictError(expected);
      throw error;
    }
  }
}
