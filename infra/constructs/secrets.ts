/**
 * The one Secrets Manager secret (RUN-1): a JSON object whose keys are SECRET_KEYS. The verify
 * token is generated at deploy time (it is ours to choose and paste into Meta's dashboard); the
 * other values are placeholders an operator replaces with `aws secretsmanager put-secret-value`.
 * Functions get only the ARN (env SCRM_SECRET_ARN) and read access, never a value.
 *
 * The generated template is frozen at the keys of the first release ({@link DEPLOYED_KEYS}): when
 * `GenerateSecretString` changes, CloudFormation generates a new secret value, which would replace
 * the credentials an operator filled in (and the verify token Meta has). A key added later, such
 * as SCRM_API_TOKEN, is written by the operator with the others (docs/deploy.md). A placeholder
 * for the API token would also be a bearer token anyone can read in this code, and the functions
 * refuse one shorter than 12 characters (REPLACE_ME would stop every function at cold start);
 * without it the API answers 503 "not configured".
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SECRET_KEYS, SECRET_PLACEHOLDER, type CrmKind } from '#shared/resources';
import { acknowledge } from '../compliance.ts';
import type { AppFunction } from './app-function.ts';

export { SECRET_PLACEHOLDER };

/** The keys the secret's generated template has always had; never changed (see above). */
export const DEPLOYED_KEYS = [SECRET_KEYS.appSecret, SECRET_KEYS.verifyToken, SECRET_KEYS.accessToken, SECRET_KEYS.hubspotAccessToken] as const;

/** Keys written as REPLACE_ME at the first deploy: the deployed ones but the generated verify token. */
export const PLACEHOLDER_KEYS: readonly string[] = DEPLOYED_KEYS.filter((key) => key !== SECRET_KEYS.verifyToken);

export interface AppSecretsProps {
  readonly stage: string;
  /** The CRM the sync writes to: its credential keys are named in the description. */
  readonly crm?: CrmKind;
}

/** The keys an operator writes into the secret for each CRM (the description names them). */
export const CRM_SECRET_KEYS: Readonly<Record<CrmKind, readonly string[]>> = {
  hubspot: [SECRET_KEYS.hubspotAccessToken],
  salesforce: [SECRET_KEYS.salesforceClientId, SECRET_KEYS.salesforceClientSecret],
  zoho: [SECRET_KEYS.zohoClientId, SECRET_KEYS.zohoClientSecret, SECRET_KEYS.zohoRefreshToken],
  webhook: [SECRET_KEYS.crmWebhookSecret],
};

export class AppSecrets extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string, props: AppSecretsProps) {
    super(scope, id);
    const placeholders = Object.fromEntries(PLACEHOLDER_KEYS.map((key) => [key, SECRET_PLACEHOLDER]));
    this.secret = new Secret(this, 'Secret', {
      secretName: `scrm/${props.stage}/app`,
      // The description may change (the value does not): it names the CRM's keys to add.
      description: `WhatsApp SCRM (${props.stage}): ${DEPLOYED_KEYS.join(', ')}${props.crm && props.crm !== 'hubspot' ? `; for SCRM_CRM=${props.crm} also ${CRM_SECRET_KEYS[props.crm].join(', ')}` : ''}. Fill in with put-secret-value (docs/deploy.md).`,
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
