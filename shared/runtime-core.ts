/**
 * Wires the adapters a function needs from its configuration, once per process (runtime.ts has
 * the whole store; this module lets a function choose a smaller one). Lambda
 * handlers and the local stack both build their dependencies here, so the code that runs
 * locally is the code that ships.
 */
import { SqsMediaQueue } from './queue/media-jobs.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadRuntimeConfig, type RuntimeConfig, type Secrets } from './config.ts';
import { secretSourceFor, type SecretSource } from './secrets.ts';
import { analyseMessage } from './domain/analysis.ts';
import { EventBridgeBus, type DomainEventBus } from './events/bus.ts';
import { SqsSyncQueue } from './queue/sync-jobs.ts';
import { SqsSendQueue } from './queue/send-jobs.ts';
import { IdentityResolver } from './identity/resolver.ts';
import { DataBucket } from './storage/bucket.ts';
import type { IngestStore, StoreFactory } from './store/ingest-store.ts';

/** Endpoint and credential overrides: set by the local stack and tests, absent on AWS. */
export interface AwsOverrides {
  readonly region?: string;
  readonly dynamodbEndpoint?: string;
  readonly sqsEndpoint?: string;
  /** S3 API endpoint (path-style addressing), e.g. the local fauxqs. */
  readonly s3Endpoint?: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * The endpoints are local emulators, which check that a request carries a well-formed SigV4
   * `Authorization` header but never verify its signature: the clients attach a fixed one instead
   * of computing HMACs with fake credentials (about a quarter of the CPU of a local call). Never
   * set on AWS, where the SDK signs every request as always.
   */
  readonly emulatorSigning?: boolean;
}

/** A signer for local emulators: a well-formed SigV4 header, no HMAC (see `emulatorSigning`). */
function emulatorSigner(service: string, region: string) {
  return {
    sign: async <R extends { headers: Record<string, string> }>(request: R): Promise<R> => {
      const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
      request.headers['x-amz-date'] = date;
      request.headers['authorization'] = `AWS4-HMAC-SHA256 Credential=local/${date.slice(0, 8)}/${region}/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;
      return request;
    },
  };
}

export function createAwsClients(overrides: AwsOverrides = {}) {
  const common = {
    ...(overrides.region && { region: overrides.region }),
    ...(overrides.credentials && { credentials: overrides.credentials }),
    maxAttempts: 3,
  };
  const signer = (service: string) => (overrides.emulatorSigning ? { signer: emulatorSigner(service, overrides.region ?? 'us-east-1') } : {});
  const dynamodb = new DynamoDBClient({ ...common, ...signer('dynamodb'), ...(overrides.dynamodbEndpoint && { endpoint: overrides.dynamodbEndpoint }) });
  return {
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    }),
    sqs: new SQSClient({ ...common, ...signer('sqs'), ...(overrides.sqsEndpoint && { endpoint: overrides.sqsEndpoint }) }),
    /** Settings of the S3 client, made on first use (storage/bucket.ts). */
    s3Config: { ...common, ...(overrides.s3Endpoint && { endpoint: overrides.s3Endpoint, forcePathStyle: true }) },
    eventBridge: new EventBridgeClient(common),
  };
}
export type AwsClients = ReturnType<typeof createAwsClients>;

export interface Runtime<S extends IngestStore = IngestStore> {
  readonly config: RuntimeConfig;
  /** The secrets as read at start (validated: a missing one fails the start, naming it). */
  readonly secrets: Secrets;
  /** The secrets as they are now: read with a TTL, and again on demand (a rotated token). */
  readonly secretSource: SecretSource;
  readonly clients: AwsClients;
  readonly store: S;
  /** The data bucket, when SCRM_BUCKET_NAME is set. */
  readonly bucket: DataBucket | undefined;
  readonly identities: IdentityResolver;
  readonly syncQueue: SqsSyncQueue;
  /** The send queue, when SCRM_SEND_QUEUE_URL is set. */
  readonly sendQueue: SqsSendQueue | undefined;
  /** The media queue (MD-1), where configured. */
  readonly mediaQueue: SqsMediaQueue | undefined;
  readonly analyse: typeof analyseMessage;
  /** Domain events: the EventBridge bus when SCRM_EVENT_BUS_NAME is set (the local stack brings its own). */
  readonly events: DomainEventBus | undefined;
}

/**
 * The runtime with the store `makeStore` builds: the webhook takes the stores ingest needs only
 * (store/ingest-store.ts), so its bundle carries no other; the rest take them all (runtime.ts).
 */
export async function createRuntimeWith<S extends IngestStore>(
  makeStore: StoreFactory<S>,
  env: Record<string, string | undefined> = process.env,
  overrides: AwsOverrides = {},
): Promise<Runtime<S>> {
  const config = loadRuntimeConfig(env);
  const secretSource = secretSourceFor(env);
  const secrets = await secretSource.current();
  const clients = createAwsClients(overrides);
  const bucket = config.bucketName ? new DataBucket(clients.s3Config, config.bucketName) : undefined;
  const store = makeStore(clients.documents, { tableName: config.tableName, retentionDays: config.retentionDays, timeZone: config.timeZone }, bucket);
  return {
    config,
    secrets,
    secretSource,
    clients,
    store,
    bucket,
    identities: new IdentityResolver(store),
    syncQueue: new SqsSyncQueue(clients.sqs, config.syncQueueUrl),
    sendQueue: config.sendQueueUrl ? new SqsSendQueue(clients.sqs, config.sendQueueUrl) : undefined,
    mediaQueue: config.mediaQueueUrl ? new SqsMediaQueue(clients.sqs, config.mediaQueueUrl) : undefined,
    analyse: analyseMessage,
    events: config.eventBusName ? new EventBridgeBus(clients.eventBridge, config.eventBusName) : undefined,
  };
}

/** A lazily built, memoised value; a failed build is retried on the next call. */
export function once<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
