/**
 * The night and report jobs: batch-export and reports, each run by EventBridge Scheduler per the
 * SCHEDULES list in shared/resources.ts, in the configured time zone, the send side's schedules
 * (outbox sweep, template sync, number health), which run the send function made by Outbound, and
 * the automation's (follow-up), which runs the automation function made by Automation. Every
 * schedule retries and has its own SQS DLQ (a run the scheduler could not deliver); a run that was
 * delivered but failed in the function goes, after Lambda's own retries, to the failed-runs queue.
 */
import { Aws, Duration, TimeZone } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { SCHEDULES, type ScheduleDefinition } from '#shared/resources';
import { acknowledge, arnReference } from '../compliance.ts';
import { AppFunction } from './app-function.ts';
import type { FunctionDefaults } from './crm-sync.ts';
import { type JobQueue, acknowledgeIsDeadLetterQueue } from './job-queue.ts';
import type { AppSecrets } from './secrets.ts';
import type { ConversationStorage } from './storage.ts';

/** Scheduler delivery retries before a run goes to the schedule's DLQ. */
export const SCHEDULE_RETRY_ATTEMPTS = 3;
/** A run not delivered within this time is given up (and dead-lettered): the next one comes. */
export const SCHEDULE_MAX_EVENT_AGE = Duration.hours(1);

export interface ScheduledJobsProps {
  readonly defaults: FunctionDefaults;
  readonly timeZone: string;
  readonly storage: ConversationStorage;
  readonly secrets: AppSecrets;
  readonly syncJobs: JobQueue;
  /** The target `send` (Outbound's send function); its failed scheduled runs go to the failed-runs queue too. */
  readonly sendFunction: AppFunction;
  /** The target `automation` (Automation's function); likewise. */
  readonly automationFunction: AppFunction;
  readonly schedules?: readonly ScheduleDefinition[];
  /**
   * Small profile (OP-6): every schedule's undeliverable runs go to the failed-runs queue instead
   * of a dead-letter queue of its own, so one alarm (and one queue) covers every scheduled run.
   */
  readonly sharedDeadLetters?: boolean;
}

export interface ScheduledRun {
  readonly definition: ScheduleDefinition;
  readonly schedule: Schedule;
  readonly deadLetterQueue: Queue;
}

export class ScheduledJobs extends Construct {
  readonly batchExportFunction: AppFunction;
  readonly reportsFunction: AppFunction;
  /** Runs that reached a function and still failed after Lambda's asynchronous retries. */
  readonly failedRuns: Queue;
  readonly runs: ScheduledRun[] = [];

  constructor(scope: Construct, id: string, props: ScheduledJobsProps) {
    super(scope, id);
    const { defaults, storage, secrets, syncJobs } = props;

    this.failedRuns = this.deadLetterQueue('FailedRuns', `scrm-${defaults.stage}-scheduled-failures`);

    this.batchExportFunction = new AppFunction(this, 'BatchExport', {
      ...defaults,
      name: 'batch-export',
      description: 'Night jobs: batch CRM sync, pending sweeps (sync, media), unread export, archive, storage growth, reconciliation',
      memoryMb: 1024,
      timeout: Duration.minutes(15),
      invocation: 'schedule',
      failedInvocations: this.failedRuns,
    });
    storage.allowTableReadWrite(this.batchExportFunction);
    storage.allowObjectWrite(this.batchExportFunction, 'exports');
    // The archive writes months of history (ST-2) and reads them back to check a rewrite.
    storage.allowObjects(this.batchExportFunction, 'archive', ['s3:PutObject', 's3:GetObject']);
    storage.allowSizeProbes(this.batchExportFunction);
    secrets.allowRead(this.batchExportFunction);
    // The pending-sync sweep queues stored-but-unsynced messages again.
    syncJobs.queue.grantSendMessages(this.batchExportFunction.role);

    this.reportsFunction = new AppFunction(this, 'Reports', {
      ...defaults,
      name: 'reports',
      description: 'Daily and weekly reports: aggregates to S3 (HTML/CSV/JSON) and metrics',
      memoryMb: 1024,
      timeout: Duration.minutes(10),
      invocation: 'schedule',
      failedInvocations: this.failedRuns,
    });
    storage.allowTableRead(this.reportsFunction);
    // Writes the reports under reports/ and reads the earlier ones back (period over period, reports/latest/).
    storage.allowObjects(this.reportsFunction, 'reports', ['s3:PutObject', 's3:GetObject']);
    // The shared runtime (shared/runtime.ts) loads the secret at cold start in every function.
    secrets.allowRead(this.reportsFunction);

    props.sendFunction.sendFailedInvocationsTo(this.failedRuns);
    props.automationFunction.sendFailedInvocationsTo(this.failedRuns);
    const targets: Record<ScheduleDefinition['target'], AppFunction> = {
      'batch-export': this.batchExportFunction,
      reports: this.reportsFunction,
      send: props.sendFunction,
      automation: props.automationFunction,
    };
    const schedulerRoles = new Map<AppFunction, Role>();
    const schedulerRole = (fn: AppFunction): Role => {
      let role = schedulerRoles.get(fn);
      if (!role) {
        role = new Role(this, `${pascalCase(fn.name)}SchedulerRole`, {
          assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
            conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
          }),
          description: `EventBridge Scheduler invokes ${fn.name}`,
        });
        acknowledge(
          role,
          `AwsSolutions-IAM5[Resource::${arnReference(fn.function)}:*]`,
          'The LambdaInvoke schedule target grants lambda:InvokeFunction on the function and on its qualified ARNs (versions and aliases, "<arn>:*"); the grant still names this one function only.',
        );
        schedulerRoles.set(fn, role);
      }
      return role;
    };

    const timeZone = TimeZone.of(props.timeZone);
    for (const definition of props.schedules ?? SCHEDULES) {
      const id = pascalCase(definition.id);
      const deadLetterQueue = props.sharedDeadLetters ? this.failedRuns : this.deadLetterQueue(`${id}DeadLetters`, `scrm-${defaults.stage}-schedule-${definition.id}-dlq`);
      const schedule = new Schedule(this, id, {
        scheduleName: `scrm-${defaults.stage}-${definition.id}`,
        description: definition.description,
        schedule: ScheduleExpression.expression(definition.cron, timeZone),
        target: new LambdaInvoke(targets[definition.target].function, {
          role: schedulerRole(targets[definition.target]),
          input: ScheduleTargetInput.fromObject({ task: definition.task }),
          retryAttempts: SCHEDULE_RETRY_ATTEMPTS,
          maxEventAge: SCHEDULE_MAX_EVENT_AGE,
          deadLetterQueue,
        }),
      });
      this.runs.push({ definition, schedule, deadLetterQueue });
    }
  }

  private deadLetterQueue(id: string, queueName: string): Queue {
    const queue = new Queue(this, id, {
      queueName,
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledgeIsDeadLetterQueue(queue);
    return queue;
  }
}

function pascalCase(id: string): string {
  return id.replace(/(^|-)([a-z0-9])/g, (_m, _dash: string, c: string) => c.toUpperCase());
}
