/**
 * Cost (OP-3): every resource carries the cost allocation tags, and a monthly AWS Budgets cost
 * budget alerts the alarm topic at 80% of actual and 100% of forecast spend.
 */
import { Stack, Tags } from 'aws-cdk-lib';
import { CfnBudget } from 'aws-cdk-lib/aws-budgets';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** The value of the `application` tag on every resource. */
export const APPLICATION_TAG_VALUE = 'whatsapp-scrm';

/** Cost allocation tag keys (activate them once in Billing > Cost allocation tags). */
export const COST_TAGS = { application: 'application', stage: 'stage', costCentre: 'cost-centre' } as const;

export const BUDGET_ALERTS = [
  { notificationType: 'ACTUAL', thresholdPercent: 80 },
  { notificationType: 'FORECASTED', thresholdPercent: 100 },
] as const;

export interface CostControlsProps {
  readonly stage: string;
  readonly costCentre: string;
  readonly monthlyBudgetUsd: number;
  readonly alarmTopic: ITopic;
}

export class CostControls extends Construct {
  readonly budget: CfnBudget;

  constructor(scope: Construct, id: string, props: CostControlsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    Tags.of(stack).add(COST_TAGS.application, APPLICATION_TAG_VALUE);
    Tags.of(stack).add(COST_TAGS.stage, props.stage);
    Tags.of(stack).add(COST_TAGS.costCentre, props.costCentre);

    this.budget = new CfnBudget(this, 'MonthlyBudget', {
      budget: {
        budgetName: `scrm-${props.stage}-monthly-cost`,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.monthlyBudgetUsd, unit: 'USD' },
        // Only this application's resources, by cost allocation tag (the tag must be activated
        // once in the Billing console, docs/deploy.md); stages sharing an account share it.
        costFilters: { TagKeyValue: [`user:${COST_TAGS.application}$${APPLICATION_TAG_VALUE}`] },
      },
      notificationsWithSubscribers: BUDGET_ALERTS.map((alert) => ({
        notification: {
          notificationType: alert.notificationType,
          comparisonOperator: 'GREATER_THAN',
          threshold: alert.thresholdPercent,
          thresholdType: 'PERCENTAGE',
        },
        subscribers: [{ subscriptionType: 'SNS', address: props.alarmTopic.topicArn }],
      })),
    });
  }
}
