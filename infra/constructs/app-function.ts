/**
 * One function folder (functions/<name>/handler.ts) as a Lambda function: Node 24 on arm64, an
 * ESM bundle built by the local esbuild, its own log group and role, and nothing more than the
 * grants its construct adds.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE } from '#shared/metric-names';
import type { FunctionName } from '#shared/resources';
import { type InstalledPackages, PROJECT_ROOT, functionEntry, nodejsBundling } from '../bundling.ts';
import { acknowledge } from '../compliance.ts';


/** How a function is invoked, which decides where its failed invocations go. */
export type Invocation =
  /** Synchronously by API Gateway: the caller (Meta) gets the error and retries. */
  | 'api'
  /** By an SQS event source mapping: failed jobs return to the queue, then its DLQ. */
  | 'queue'
  /** Asynchronously by EventBridge Scheduler: failures go to the on-failure destination. */
  | 'schedule'
  /** Synchronously by an operator (`aws lambda invoke`), who sees the result. */
  | 'operator';

export interface AppFunctionProps {
  readonly name: FunctionName;
  readonly stage: string;
  readonly description: string;
  readonly memoryMb: number;
  readonly timeout: Duration;
  readonly invocation: Invocation;
  /** Values of the ENV names from shared/resources.ts (never secret values). */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetentionDays: number;
  /** Native packages installed next to the bundle instead of bundled. */
  readonly install?: InstalledPackages;
  /**
   * Where failed asynchronous invocations are kept. Required for `invocation: 'schedule'`, here or
   * later with {@link AppFunction.sendFailedInvocationsTo} (before synth).
   */
  readonly failedInvocations?: IQueue;
}

/** Lambda's own retries of a failed asynchronous invocation, and how long an event may wait for one. */
const ASYNC_RETRY = { retryAttempts: 2, maxEventAge: Duration.hours(6) } as const;

const DLQ_NOT_APPLICABLE: Record<Exclude<Invocation, 'schedule'>, string> = {
  api: 'Invoked synchronously by API Gateway: a failure is returned to Meta as a 5xx and Meta redelivers the webhook (IN-5); a Lambda DLQ only applies to asynchronous invocations.',
  queue: 'Invoked by an SQS event source mapping: a failed job returns to its queue and moves to the queue redrive DLQ after maxReceiveCount; a Lambda DLQ only applies to asynchronous invocations.',
  operator: 'Invoked synchronously by an operator (aws lambda invoke) who sees the result; a Lambda DLQ only applies to asynchronous invocations.',
};

export class AppFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  readonly name: FunctionName;
  private failedInvocationsQueue: IQueue | undefined;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);
    this.name = props.name;
    const functionName = `scrm-${props.stage}-${props.name}`;

    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: props.logRetentionDays as RetentionDays,
      // Operational logs only: the conversation data lives in the table and the bucket.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Own role without the AWSLambdaBasicExecutionRole managed policy: logs go to this group only.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${functionName}`,
    });
    this.logGroup.grantWrite(this.role);

    if (props.invocation === 'schedule') {
      this.node.addValidation({
        validate: () => (this.failedInvocationsQueue ? [] : [`${props.name}: a scheduled function needs a failedInvocations queue`]),
      });
    }

    this.function = new NodejsFunction(this, 'Function', {
      functionName,
      description: props.description,
      entry: functionEntry(props.name),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memoryMb,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      tracing: Tracing.ACTIVE,
      bundling: nodejsBundling(props.install ? { install: props.install, scope: this } : {}),
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: props.name,
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
      ...(props.invocation === 'schedule' && props.failedInvocations ? { onFailure: new SqsDestination(props.failedInvocations), ...ASYNC_RETRY } : {}),
    });
    if (props.invocation === 'schedule') this.failedInvocationsQueue = props.failedInvocations;

    acknowledge(
      this,
      'AwsSolutions-IAM5[Resource::*]',
      'Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions, so AWS requires Resource "*".',
    );
    acknowledge(
      this,
      'Serverless-LambdaDLQ',
      props.invocation === 'schedule'
        ? 'Failed asynchronous invocations go to an on-failure destination (SQS), which records the request and the error; a DeadLetterConfig would duplicate it.'
        : DLQ_NOT_APPLICABLE[props.invocation],
    );
  }

  /**
   * Keeps failed asynchronous invocations (after Lambda's 2 retries) in `queue`: for a scheduled
   * function whose queue is made after it, or a function that is also invoked asynchronously
   * besides its main way (the webhook by SNS, IN-7). Once per function.
   */
  sendFailedInvocationsTo(queue: IQueue): void {
    if (this.failedInvocationsQueue) throw new Error(`${this.name}: failed invocations already go to ${this.failedInvocationsQueue.node.path}`);
    this.function.configureAsyncInvoke({ onFailure: new SqsDestination(queue), ...ASYNC_RETRY });
    this.failedInvocationsQueue = queue;
  }
}
