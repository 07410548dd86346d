/**
 * CDK entry point (cdk.json: `npx tsx infra/app.ts`). Synthesizes offline: no AWS credentials
 * (the account and region stay unresolved unless CDK_DEFAULT_ACCOUNT/REGION are set by the CLI
 * from the deploy profile) and no Docker (functions are bundled by the local esbuild).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { addComplianceChecks } from './compliance.ts';
import { type StackConfig, readStackConfig } from './config.ts';
import { ScrmStack } from './stack.ts';

export interface BuildAppOptions {
  /** Settings as CDK context would give them; when absent the app's own context and env are read. */
  readonly config?: StackConfig;
  readonly app?: App;
  /** Run the cdk-nag packs during synth (on by default). */
  readonly complianceChecks?: boolean;
}

export function stackId(stage: string): string {
  return `WhatsAppScrm-${stage}`;
}

export function buildApp(options: BuildAppOptions = {}): { app: App; stack: ScrmStack } {
  const app = options.app ?? new App();
  const config = options.config ?? readStackConfig((key) => app.node.tryGetContext(key));
  const stack = new ScrmStack(app, stackId(config.stage), {
    config,
    description: `WhatsApp Social CRM (${config.stage})`,
    // The deploy parameters: the account and region of the profile `cdk deploy` runs with.
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  if (options.complianceChecks ?? true) addComplianceChecks(app);
  return { app, stack };
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isEntryPoint) {
  try {
    buildApp().app.synth();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
