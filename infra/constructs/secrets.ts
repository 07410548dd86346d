/**
 * The one Secrets Manager secret (RUN-1): a JSON object whose keys are SECRET_KEYS. The verify
 * token is generated at deploy time (it is ours to choose and paste into Meta's dashboard); the
 * other values are placeholders an operator replaces with `aws secretsmanager put-secret-value`.
 * Functions get only the ARN (env SCRM_SECRET_ARN) and read access, never a value.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SECRET_KEYS, SECRET_PLACEHOLDER } from '#shared/resources';
import { acknowledge } from '../compliance.ts';
import type { AppFunction } from './app-function.ts';

export { SECRET_PLACEHOLDER };

export interface AppSecretsProps {
  readonly stage: string;
}

export class AppSecrets extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string, props: AppSecretsProps) {
    super(scope, id);
    const placeholders = Object.fromEntries(
      Object.values(SECRET_KEYS)
        .filter((key) => key !== SECRET_KEYS.verifyToken)
        .map((key) => [key, SECRET_PLACEHOLDER]),
    );
    this.secret = new Secret(this, 'Secret', {
      secretName: `scrm/${props.stage}/app`,
      description: `WhatsApp SCRM (${props.stage}): ${Object.values(SECRET_KEYS).join(', ')}. Fill in with put-secret-value (docs/deploy.md).`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify(placeholders),
        generateStringKey: SECRET_KEYS.verifyToken,
        excludePunctuation: true,
        passwordLength: 40,
      },
      // The filled-in credentials survive a `cdk destroy`; delete the secret by hand when done.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.secret,
      'AwsSolutions-SMG4',
      'The values are issued by Meta and the CRM (app secret, system-user and CRM tokens) and can only be rotated in their dashboards; OP-5 covers rotation cadence and token-age alarms.',
    );
  }

  allowRead(fn: AppFunction): void {
    this.secret.grantRead(fn.role);
  }
}
