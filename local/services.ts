/**
 * The AWS-compatible services of the local stack, on loopback: dynalite (DynamoDB API, LevelDB
 * on disk, on its own thread) and fauxqs (SQS and S3 API, in memory; the bucket on disk with a data directory). Tables and queues are created from the same
 * definitions as the CDK stack (shared/resources.ts). Used by `npm start`, the tests and the bench.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { CRM_EVENTS_QUEUE, ENV, MEDIA_QUEUE, SEND_QUEUE, SYNC_RETRY, TABLE, resourceNames, syncQueueDefinition, type QueueDefinition, type SyncRetryPolicy } from '#shared/resources';
import { createAwsClients, type AwsOverrides } from '#shared/runtime';


export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'us-east-1';

export interface LocalServicesOptions {
  /** Where data survives restarts; in memory when undefined. */
  readonly dataDir?: string | undefined;
  readonly host?: string;
  readonly dynamodbPort?: number;
  readonly sqsPort?: number;
  readonly stage?: string;
  /** Attempts and pause of a sync job: the sync queue's visibility and redrive follow (resources.ts). */
  readonly syncRetry?: SyncRetryPolicy;
}

export interface LocalServices {
  readonly overrides: AwsOverrides;
  readonly names: ReturnType<typeof resourceNames>;
  readonly queueUrls: { sync: string; syncDlq: string; send: string; sendDlq: string; crmEvents: string; crmEventsDlq: string; media: string; mediaDlq: string };
  /** Environment the functions read, pointing at these services. */
  readonly env: Record<string, string>;
  readonly clients: ReturnType<typeof createAwsClients>;
  readonly fauxqs: FauxqsServer;
  stop(): Promise<void>;
}

export async function startLocalServices(options: LocalServicesOptions = {}): Promise<LocalServices> {
  const host = options.host ?? '127.0.0.1';
  const names = resourceNames(options.stage ?? 'local');
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });

  const dynamo = await startDynalite({ host, port: options.dynamodbPort ?? 0, ...(options.dataDir && { path: join(options.dataDir, 'dynamodb') }) });
  const dynamodbEndpoint = `http://${host}:${dynamo.port}`;

  const fauxqs = await startFauxqs({
    port: options.sqsPort ?? 0,
    host,
    logger: false,
    defaultRegion: LOCAL_REGION,
    // Queues live in memory, as the architecture plans: the table is the source of truth for
    // pending work, and the stack's sweep queues it again at every start.
  });
  const sqsEndpoint = fauxqs.address;
  // With a data directory the bucket persists too (media, archives: what the rows point at must
  // survive a restart), in a second fauxqs on fauxqs' SQLite; the queues stay in memory.
  const s3 = options.dataDir ? await startFauxqs({ port: 0, host, logger: false, defaultRegion: LOCAL_REGION, dataDir: join(options.dataDir, 's3') }) : fauxqs;
  const s3Endpoint = s3.address;

  const overrides: AwsOverrides = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, dynamodbEndpoint, sqsEndpoint, s3Endpoint, emulatorSigning: true };
  const clients = createAwsClients(overrides);
  await ensureTable(clients.dynamodb, names.table);

  const syncRetry = options.syncRetry ?? SYNC_RETRY;
  const syncQueue = syncQueueDefinition(syncRetry);
  // Media and archives (MD-1, ST-2) go to S3 (created again at a restart: an existing bucket stays).
  s3.createBucket(names.bucket);
  const syncDlq = await ensureQueue(clients.sqs, names.syncDlq, syncQueue, undefined);
  const sync = await ensureQueue(clients.sqs, names.syncQueue, syncQueue, syncDlq.arn);
  const sendDlq = await ensureQueue(clients.sqs, names.sendDlq, SEND_QUEUE, undefined);
  const send = await ensureQueue(clients.sqs, names.sendQueue, SEND_QUEUE, sendDlq.arn);
  const crmEventsDlq = await ensureQueue(clients.sqs, names.crmEventsDlq, CRM_EVENTS_QUEUE, undefined);
  const crmEvents = await ensureQueue(clients.sqs, names.crmEventsQueue, CRM_EVENTS_QUEUE, crmEventsDlq.arn);
  const mediaDlq = await ensureQueue(clients.sqs, names.mediaDlq, MEDIA_QUEUE, undefined);
  const media = await ensureQueue(clients.sqs, names.mediaQueue, MEDIA_QUEUE, mediaDlq.arn);

  const env: Record<string, string> = {
    [ENV.stage]: options.stage ?? 'local',
    [ENV.tableName]: names.table,
    [ENV.syncQueueUrl]: sync.url,
    [ENV.syncDlqUrl]: syncDlq.url,
    [ENV.sendQueueUrl]: send.url,
    [ENV.crmEventsQueueUrl]: crmEvents.url,
    [ENV.mediaQueueUrl]: media.url,
    [ENV.bucketName]: names.bucket,
    [ENV.syncRetryDelaySeconds]: String(syncRetry.retryDelaySeconds),
    [ENV.syncMaxAttempts]: String(syncRetry.maxAttempts),
  };

  return {
    overrides,
    names,
    queueUrls: { sync: sync.url, syncDlq: syncDlq.url, send: send.url, sendDlq: sendDlq.url, crmEvents: crmEvents.url, crmEventsDlq: crmEventsDlq.url, media: media.url, mediaDlq: mediaDlq.url },
    env,
    clients,
    fauxqs,
    async stop() {
      clients.dynamodb.destroy();
      clients.sqs.destroy();
      await fauxqs.stop();
      if (s3 !== fauxqs) await s3.stop();
      await dynamo.stop();
    },
  };
}

/** dynalite on a worker thread (local/dynalite-worker.ts); resolves once it listens. */
async function startDynalite(options: { host: string; port: number; path?: string }): Promise<{ port: number; stop(): Promise<void> }> {
  const worker = new Worker(new URL('./dynalite-worker.ts', import.meta.url), { workerData: options });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message: { kind: string; port?: number; message?: string }) => {
      if (message.kind === 'listening') resolve(message.port!);
      if (message.kind === 'error') reject(new Error(`dynalite: ${message.message}`));
    });
  });
  return {
    port,
    async stop() {
      const closed = new Promise((resolve) => worker.on('message', (m: { kind: string }) => m.kind === 'closed' && resolve(undefined)));
      worker.postMessage({ kind: 'close' });
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000))]);
      await worker.terminate();
    },
  };
}

/** The table as TABLE defines it (the CDK stack builds the same keys and indexes). */
async function ensureTable(db: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await db.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  const { byContact, pendingSync } = TABLE.indexes;
  const attributes = [TABLE.partitionKey, TABLE.sortKey, byContact.partitionKey, byContact.sortKey, pendingSync.partitionKey, pendingSync.sortKey];
  await db.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: attributes.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [byContact, pendingSync].map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    }),
  );
  await db
    .send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true } }))
    .catch(() => undefined); // dynalite does not expire items; the setting only matters on AWS
}

async function ensureQueue(
  sqs: SQSClient,
  name: string,
  definition: QueueDefinition,
  deadLetterArn: string | undefined,
): Promise<{ url: string; arn: string }> {
  const attributes: Record<string, string> = {
    VisibilityTimeout: String(definition.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(definition.retentionDays * 86_400),
    ...(deadLetterArn && {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: definition.maxReceiveCount }),
    }),
  };
  const fifo = definition.fifo ? { FifoQueue: 'true' } : {};
  let url: string;
  try {
    url = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { ...fifo, ...attributes } }))).QueueUrl!;
  } catch (error) {
    // A queue kept from an earlier run with other settings: keep it, update its settings.
    if ((error as Error).name !== 'QueueAlreadyExists' && (error as Error).name !== 'QueueNameExists') throw error;
    url = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: fifo }))).QueueUrl!;
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
  }
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes?.['QueueArn'];
  return { url, arn: arn! };
}
