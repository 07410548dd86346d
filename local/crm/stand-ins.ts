/**
 * The local stand-in of each CRM, started by kind: what `npm start` runs for `SCRM_CRM`, what the
 * shared contract suite and the bench drive. Each persists to `<dataDir>/<kind>.json` when given
 * a data folder.
 */
import { join } from 'node:path';
import type { CrmKind } from '#shared/resources';
import { startWebhookReceiver } from '../crm-webhook/server.ts';
import { startHubSpotStandIn } from '../hubspot/stand-in.ts';
import { startSalesforceStandIn } from '../salesforce/server.ts';
import { startZohoStandIn } from '../zoho/server.ts';
import type { CrmStandIn, StandInRateLimit } from './stand-in.ts';

export interface CrmStandInOptions {
  readonly port?: number;
  readonly dataDir?: string | undefined;
  /** How long the CRM's search/query takes to see a write (HubSpot's search lags seconds). */
  readonly searchLagMs?: number;
  readonly rateLimit?: StandInRateLimit;
  /** The HubSpot stand-in's private-app token. */
  readonly hubspotToken?: string;
}

/** The setting that points the product at a real CRM instead of the stand-in. */
export const CRM_ADDRESS_SETTING: Record<CrmKind, string> = {
  hubspot: 'HUBSPOT_API_BASE',
  salesforce: 'SALESFORCE_LOGIN_URL',
  zoho: 'ZOHO_ACCOUNTS_URL',
  webhook: 'CRM_WEBHOOK_URL',
};

export async function startCrmStandIn(kind: CrmKind, options: CrmStandInOptions = {}): Promise<CrmStandIn> {
  const dataFile = options.dataDir ? join(options.dataDir, `${kind}.json`) : undefined;
  const common = { port: options.port ?? 0, ...(dataFile && { dataFile }), ...(options.rateLimit && { rateLimit: options.rateLimit }) };
  switch (kind) {
    case 'hubspot':
      return startHubSpotStandIn({ ...common, searchLagMs: options.searchLagMs ?? 2000, ...(options.hubspotToken && { token: options.hubspotToken }) });
    case 'salesforce':
      return startSalesforceStandIn({ ...common, ...(options.searchLagMs !== undefined && { queryLagMs: options.searchLagMs }) });
    case 'zoho':
      return startZohoStandIn({ ...common, ...(options.searchLagMs !== undefined && { searchLagMs: options.searchLagMs }) });
    case 'webhook':
      return startWebhookReceiver(common);
  }
}
