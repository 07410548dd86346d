/** The crm-events app from a runtime: the same wiring on AWS (handler.ts) and under `npm start`. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { ConfigError } from '#shared/config';
import { runtimeCrmAdapter } from '#shared/crm/factory';
import { crmField } from '#shared/crm/field-mapping';
import { fieldMapping } from '#shared/crm/mappings';
import type { Roster } from '#shared/domain/automation/config';
import type { MetricsSink } from '#shared/metric-names';
import { createSubmit, submitStores } from '#shared/outbound/submit';
import { CRM_KINDS, ENV, type CrmKind } from '#shared/resources';
import type { Runtime } from '#shared/runtime';
import { createCrmInbound, type CrmInbound } from '#shared/sync/two-way';
import type { WhatsAppAccountApi } from '#shared/whatsapp/outbound/channel';
import { createCrmEventsApp } from './app.ts';

export function crmEventsApp(options: {
  readonly runtime: Runtime;
  readonly queueUrl: string | undefined;
  readonly roster?: Roster | undefined;
  readonly accountApi?: WhatsAppAccountApi | undefined;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: MetricsSink;
}) {
  const { runtime } = options;
  if (!options.queueUrl) throw new ConfigError(`Invalid configuration: ${ENV.crmEventsQueueUrl} is not set`);
  const sendJobs = runtime.sendQueue;
  const kind = runtime.config.crm.kind as CrmKind | 'none';
  let inbound: CrmInbound | undefined;
  return createCrmEventsApp({
    store: runtime.store,
    secretSource: runtime.secretSource,
    sqs: runtime.clients.sqs,
    queueUrl: options.queueUrl,
    crmKind: kind,
    customerLevelField: (CRM_KINDS as readonly string[]).includes(kind) ? (crmField(fieldMapping(kind as CrmKind), 'customerLevel') ?? '') : '',
    hubspotAppId: runtime.config.crm.env['HUBSPOT_APP_ID'],
    salesforceIntegrationUserId: runtime.config.crm.env['SALESFORCE_INTEGRATION_USER_ID'],
    logger: options.logger,
    ...(options.metrics && { metrics: options.metrics }),
    inbound: () => {
      if (!sendJobs) throw new ConfigError(`Invalid configuration: ${ENV.sendQueueUrl} is not set (replies written in the CRM are sent through it)`);
      const submit = createSubmit({ ...submitStores(runtime.store), accountApi: options.accountApi, jobs: sendJobs, config: runtime.config });
      return (inbound ??= createCrmInbound({
        store: runtime.store,
        crm: runtimeCrmAdapter(runtime),
        syncJobs: runtime.syncQueue,
        submit: (key, input) => submit.submit(key, input),
        roster: options.roster,
        logger: options.logger,
        ...(options.metrics && { metrics: options.metrics }),
      }));
    },
  });
}
