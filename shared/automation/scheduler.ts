/**
 * Timers of the time-window rules (AU-4, AU-5, AU-3 replenishment): one one-time schedule per
 * timer, named after its key, so scheduling the same timer twice (a repeated event) is a no-op.
 * On AWS, EventBridge Scheduler `at()` schedules that put the timer on the automation queue and
 * delete themselves; locally, local/scheduler.ts. The rule checks its condition over the timer's
 * exact window when it fires, so when the timer fires (a minute late, twice) changes nothing.
 */
import { createHash } from 'node:crypto';
import { ConflictException, CreateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface TimerScheduler {
  /** Schedules `payload` for `at` (ms); `exists` when a timer of this name was scheduled before. */
  schedule(name: string, at: number, payload: object): Promise<'scheduled' | 'exists'>;
}

/** A schedule name EventBridge accepts (1–64 of [0-9A-Za-z-_.]) that is the same for the same timer. */
export function scheduleName(name: string): string {
  const readable = name.replace(/[^0-9A-Za-z_.-]/gu, '-').slice(0, 30);
  return `${readable}-${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;
}

/** `at(2026-12-03T10:00:05)` in UTC; Scheduler's at() has whole seconds, so it is rounded up. */
export function atExpression(at: number): string {
  return `at(${new Date(Math.ceil(at / 1000) * 1000).toISOString().slice(0, 19)})`;
}

/** Timers due sooner than this go on the queue with a delivery delay instead (SQS allows 15 min). */
const QUEUE_DELAY_MAX_MS = 900_000;

export interface EventBridgeSchedulerOptions {
  readonly groupName: string;
  /** The automation queue the timers are delivered to, and the role Scheduler sends with. */
  readonly queueArn: string;
  readonly queueUrl: string;
  readonly roleArn: string;
  /** Where a timer Scheduler could not deliver goes (the automation DLQ). */
  readonly deadLetterArn?: string | undefined;
  readonly now?: () => number;
}

export class EventBridgeTimerScheduler implements TimerScheduler {
  constructor(
    private readonly scheduler: SchedulerClient,
    private readonly sqs: SQSClient,
    private readonly options: EventBridgeSchedulerOptions,
  ) {}

  async schedule(name: string, at: number, payload: object): Promise<'scheduled' | 'exists'> {
    const now = (this.options.now ?? Date.now)();
    if (at - now < QUEUE_DELAY_MAX_MS) {
      // Soon (or already due): the queue's own delay; a repeat is harmless, the rule is idempotent.
      await this.sqs.send(new SendMessageCommand({ QueueUrl: this.options.queueUrl, MessageBody: JSON.stringify(payload), DelaySeconds: Math.max(0, Math.ceil((at - now) / 1000)) }));
      return 'scheduled';
    }
    try {
      await this.scheduler.send(
        new CreateScheduleCommand({
          Name: scheduleName(name),
          GroupName: this.options.groupName,
          ScheduleExpression: atExpression(at),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: {
            Arn: this.options.queueArn,
            RoleArn: this.options.roleArn,
            Input: JSON.stringify(payload),
            RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
            ...(this.options.deadLetterArn && { DeadLetterConfig: { Arn: this.options.deadLetterArn } }),
          },
        }),
      );
      return 'scheduled';
    } catch (error) {
      if (error instanceof ConflictException || (error as { name?: string }).name === 'ConflictException') return 'exists';
      throw error;
    }
  }
}
