/**
 * CRM sync (SY-*): the sync function consumes the FIFO sync queue (one message group per contact,
 * partial batch responses); a job that failed 1 + 3 times lands in the DLQ. The retry function,
 * run by an operator, moves DLQ jobs back to the queue. Besides the DLQ and the queue it reads and
 * updates the message row (a job whose message is already synced is dropped, not resent: the
 * idempotency guard of invariant 2) and reads the secret (the shared runtime loads it at start).
 */
import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ENV, SYNC_MAX_CONCURRENCY } from '#shared/resources';
import { AppFunction, type AppFunctionProps } from './app-function.ts';
import type { JobQueue } from './job-queue.ts';
import type { AppSecrets } from './secrets.ts';
import type { ConversationStorage } from './storage.ts';

/** What every function of the stack shares. */
export type FunctionDefaults = Pick<AppFunctionProps, 'stage' | 'environment' | 'logRetentionDays'>;

export interface CrmSyncProps {
  readonly defaults: FunctionDefaults;
  readonly syncJobs: JobQueue;
  readonly storage: ConversationStorage;
  readonly secrets: AppSecrets;
}

export class CrmSync extends Construct {
  readonly syncFunction: AppFunction;
  readonly retryFunction: AppFunction;

  constructor(scope: Construct, id: string, props: CrmSyncProps) {
    super(scope, id);
    const { defaults, syncJobs, storage, secrets } = props;

    this.syncFunction = new AppFunction(this, 'Sync', {
      ...defaults,
      name: 'sync',
      description: 'Writes contacts and messages to the CRM, one sync job at a time',
      memoryMb: 256,
      // ≤ 1/6 of the sync queue visibility timeout (300 s → 50 s).
      timeout: syncJobs.maxConsumerTimeout,
      invocation: 'queue',
      // Each invocation paces to its share of the CRM's limit (CRM_RATE_LIMIT ÷ this).
      environment: { ...defaults.environment, [ENV.syncConcurrency]: String(SYNC_MAX_CONCURRENCY) },
    });
    storage.allowTableReadWrite(this.syncFunction);
    secrets.allowRead(this.syncFunction);
    syncJobs.consumeWith(this.syncFunction, { maxConcurrency: SYNC_MAX_CONCURRENCY });
    // A job the CRM rejects for good is parked in the DLQ at once, with its reason.
    syncJobs.deadLetterQueue.grantSendMessages(this.syncFunction.role);

    this.retryFunction = new AppFunction(this, 'Retry', {
      ...defaults,
      name: 'retry',
      description: 'Moves failed sync jobs from the dead-letter queue back to the sync queue',
      memoryMb: 256,
      timeout: Duration.minutes(5),
      invocation: 'operator',
    });
    syncJobs.deadLetterQueue.grantConsumeMessages(this.retryFunction.role);
    syncJobs.queue.grantSendMessages(this.retryFunction.role);
    storage.allowTableReadWrite(this.retryFunction);
    secrets.allowRead(this.retryFunction);
  }
}
