/**
 * Puts a contact's archived month of history back into the table (ST-2):
 *   npm run archive:restore -- <contactId> <YYYY-MM>
 *
 * Where: the local stack `npm start` runs, by default — its services' endpoints are read from
 * `GET /local/endpoints` (SCRM_URL, default http://127.0.0.1:$PORT, PORT default 3000) and the
 * restore talks to its DynamoDB and S3 directly (the stack has no restore route; the restore is the
 * same code either way, shared/archive/archive.ts). On AWS when SCRM_TABLE_NAME is set: then
 * SCRM_BUCKET_NAME names the bucket, and the SDK's usual chain (AWS_PROFILE, AWS_REGION, …) the
 * account. SCRM_RETENTION_DAYS (default 180, at least 30) sets the restored rows' fresh expiry.
 *
 * Prints one line of JSON: the object, its rows, how many were restored and how many were still
 * in the table. Exit 2 with the reason for a missing or malformed argument or setting and for an
 * archive that does not exist; exit 1 for an archive that fails its check (sha256) or any other error.
 */
import { fileURLToPath } from 'node:url';
import { ArchiveIntegrityError, ArchiveNotFoundError, restoreMonth } from '#shared/archive/archive';
import { DataBucket } from '#shared/storage/bucket';
import { isArchivableContactId } from '#shared/archive/keys';
import { isMonth } from '#shared/archive/months';
import { ENV, resourceNames } from '#shared/resources';
import { createAwsClients, type AwsOverrides } from '#shared/runtime-core';
import { TableClient } from '#shared/store/client';

const USAGE = 'usage: npm run archive:restore -- <contactId> <YYYY-MM>';
const MIN_RETENTION_DAYS = 30;
const DEFAULT_RETENTION_DAYS = 180;

/** A failure the user can fix: its message, and the exit code. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly code = 2,
  ) {
    super(message);
  }
}

interface Target {
  readonly overrides: AwsOverrides;
  readonly tableName: string;
  readonly bucketName: string;
  readonly where: string;
}

type Env = Record<string, string | undefined>;

function parseArguments(argv: readonly string[]): { contactId: string; month: string } {
  const [contactId, month, ...extra] = argv;
  if (!contactId || !month) throw new UsageError(`${USAGE}\n  missing ${contactId ? 'the month' : 'the contact id and the month'}`);
  if (extra.length) throw new UsageError(`${USAGE}\n  unexpected argument(s): ${extra.join(' ')}`);
  if (!isMonth(month)) throw new UsageError(`the month is written YYYY-MM (e.g. 2026-03), got "${month}"`);
  if (!isArchivableContactId(contactId)) throw new UsageError(`"${contactId}" is not a contact id (letters, digits, _ and - only, e.g. ct_79M1j8TL95N9PouKrZHYYg)`);
  return { contactId, month };
}

function retentionDays(env: Env): number {
  const value = env[ENV.retentionDays];
  if (value === undefined || value === '') return DEFAULT_RETENTION_DAYS;
  const days = Number(value);
  if (!Number.isInteger(days) || days < MIN_RETENTION_DAYS) throw new UsageError(`${ENV.retentionDays} must be a whole number of days, at least ${MIN_RETENTION_DAYS}, got "${value}"`);
  return days;
}

/** AWS: the table and bucket the environment names. */
function awsTarget(env: Env, tableName: string): Target {
  const bucketName = env[ENV.bucketName];
  if (!bucketName) throw new UsageError(`${ENV.tableName} is set (AWS) but ${ENV.bucketName} is not: name the bucket that holds archive/`);
  return { overrides: env['AWS_REGION'] ? { region: env['AWS_REGION'] } : {}, tableName, bucketName, where: `AWS table ${tableName}` };
}

/** The local stack: its endpoints as it reports them; the bucket named after its table's stage. */
async function localTarget(env: Env): Promise<Target> {
  const base = env['SCRM_URL'] ?? `http://127.0.0.1:${env['PORT'] ?? '3000'}`;
  let endpoints: AwsOverrides & { tableName?: string };
  try {
    const response = await fetch(`${base}/local/endpoints`);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    endpoints = (await response.json()) as typeof endpoints;
  } catch (error) {
    throw new UsageError(`the local stack at ${base} does not answer (is \`npm start\` running? on AWS set ${ENV.tableName} and ${ENV.bucketName}): ${(error as Error).message}`, 1);
  }
  const tableName = endpoints.tableName;
  if (!tableName) throw new UsageError(`the local stack at ${base} did not name its table`, 1);
  const stage = /^scrm-(.+)-table$/.exec(tableName)?.[1] ?? 'local';
  // Only what the DynamoDB and S3 clients need (the answer also lists queues and stand-ins).
  const { region, credentials, dynamodbEndpoint, s3Endpoint, emulatorSigning } = endpoints;
  const overrides: AwsOverrides = {
    ...(region && { region }),
    ...(credentials && { credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey } }),
    ...(dynamodbEndpoint && { dynamodbEndpoint }),
    ...(s3Endpoint && { s3Endpoint }),
    ...(emulatorSigning && { emulatorSigning }),
  };
  return { overrides, tableName, bucketName: env[ENV.bucketName] || resourceNames(stage).bucket, where: `local stack at ${base}` };
}

export async function main(argv: readonly string[], env: Env = process.env): Promise<number> {
  try {
    const { contactId, month } = parseArguments(argv);
    const days = retentionDays(env);
    const tableName = env[ENV.tableName];
    const target = tableName ? awsTarget(env, tableName) : await localTarget(env);
    const clients = createAwsClients(target.overrides);
    const bucket = new DataBucket(clients.s3Config, target.bucketName);
    try {
      const table = new TableClient(clients.documents, { tableName: target.tableName, retentionDays: days });
      const summary = await restoreMonth({ table, bucket, now: Date.now }, contactId, month);
      console.log(JSON.stringify({ contactId, month, ...summary, expiresInDays: days, where: target.where }));
      return 0;
    } finally {
      clients.dynamodb.destroy();
      clients.sqs.destroy();
      await bucket.destroy();
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(error.message);
      return error.code;
    }
    if (error instanceof ArchiveNotFoundError) {
      console.error(error.message);
      return 2;
    }
    console.error(error instanceof ArchiveIntegrityError ? error.message : `restore failed: ${(error as Error).message ?? String(error)}`);
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = await main(process.argv.slice(2));
