/**
 * cdk-nag (v3) wiring: the rule packs the app is checked against, and the one way this code base
 * acknowledges a finding — always with its reason.
 */
import { type App, CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** The packs every synth runs; a finding that is not acknowledged fails the synth. */
export function compliancePacks(scope?: IConstruct) {
  return [new AwsSolutionsChecks(scope), new ServerlessChecks(scope)] as const;
}

export function addComplianceChecks(app: App): void {
  Validations.of(app).addPlugins(...compliancePacks(app));
}

/** Shortest reason accepted: an acknowledgement must say why, not just that. */
const MIN_REASON_LENGTH = 30;

/**
 * Acknowledges one cdk-nag finding on a construct (and everything under it), with the reason.
 * `ruleId` is e.g. `AwsSolutions-SQS3` or, for one finding of a rule,
 * `AwsSolutions-IAM5[Resource::<DataBucket1234.Arn>/media/*]`.
 */
export function acknowledge(scope: IConstruct, ruleId: string, reason: string): void {
  if (reason.trim().length < MIN_REASON_LENGTH) {
    throw new Error(`The acknowledgement of ${ruleId} on ${scope.node.path} needs a reason (got ${JSON.stringify(reason)})`);
  }
  Validations.of(scope).acknowledge({ id: ruleId, reason });
}

/**
 * How cdk-nag names a resource reference inside an IAM5 finding: `<LogicalId.Arn>`.
 * Used to acknowledge exactly one wildcard resource rather than every wildcard of a policy.
 */
export function arnReference(resource: IConstruct): string {
  const cfn = resource.node.defaultChild;
  if (!(cfn instanceof CfnElement)) throw new Error(`${resource.node.path} has no CloudFormation resource`);
  const stack = Stack.of(resource);
  return `<${stack.resolve(stack.getLogicalId(cfn)) as string}.Arn>`;
}
