/**
 * Changes from the CRM (SY-3), in two halves:
 *
 * - **Receive** (`POST /crm-events/hubspot`, `POST /crm-events/zoho`): the delivery's proof is
 *   checked (HubSpot's signature v3 over `https://` + Host + path and query, at most 5 minutes
 *   old; Zoho's channel token), each event stored once by its id, the new ones queued, and the
 *   CRM answered at once. A repeated event changes nothing. An event stored but whose enqueue
 *   failed is queued again by the CRM's retry (its mark still says `queued`), so nothing the CRM
 *   was told we took is lost.
 * - **Apply** (the crm-events queue): the stored events, and Salesforce's Change Data Capture
 *   events that Event Relay puts on the partner bus (a rule sends them to the same queue), applied
 *   by shared/sync/two-way.ts. A failed record comes back (partial batch response), then the DLQ.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { crmEventsSender, type CrmEventsEnvelope } from '#shared/queue/crm-events';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseHubSpotEvents, verifyHubSpotSignature } from '#shared/crm/hubspot/inbound';
import { parseSalesforceEvent } from '#shared/crm/salesforce/inbound';
import { parseZohoNotification } from '#shared/crm/zoho/inbound';
import type { CrmEvent } from '#shared/crm/two-way';
import { headerOf, json, problem, type HttpResult } from '#shared/http-api';
import { NO_METRICS, type MetricsSink } from '#shared/metric-names';
import type { CrmKind } from '#shared/resources';
import { SECRET_KEYS } from '#shared/resources';
import type { SecretSource } from '#shared/secrets';
import type { Store } from '#shared/store/store';
import type { CrmInbound } from '#shared/sync/two-way';


export interface CrmEventsDeps {
  readonly store: Pick<Store, 'twoWay'>;
  readonly secretSource: SecretSource;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** The CRM this deployment syncs with (SCRM_CRM): deliveries of another are refused. */
  readonly crmKind: CrmKind | 'none';
  /** The applying half, built on first use (it needs the CRM adapter). */
  readonly inbound: () => CrmInbound;
  /** The CRM's field of the customer level (config/crm/<kind>.json), which the parsers map back. */
  readonly customerLevelField: string;
  readonly hubspotAppId?: string | undefined;
  readonly salesforceIntegrationUserId?: string | undefined;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: MetricsSink;
  readonly now?: () => number;
}

const MAX_BODY_BYTES = 1024 * 1024;

export function createCrmEventsApp(deps: CrmEventsDeps) {
  const now = deps.now ?? Date.now;
  const metrics = deps.metrics ?? NO_METRICS;
  const { logger } = deps;
  const send = crmEventsSender(deps.sqs, deps.queueUrl);

  function refused(status: number, message: string, crm: string): HttpResult {
    metrics.add('crmEventsRefused', 1, { crm });
    logger.warn('CRM delivery refused', { crm, status, reason: message });
    return problem(status, message);
  }

  /** Stores each event once and queues the ones not applied yet. */
  async function accept(crm: CrmKind, events: readonly CrmEvent[]): Promise<HttpResult> {
    const at = now();
    const toQueue: CrmEvent[] = [];
    let repeated = 0;
    for (const event of events) {
      const state = await deps.store.twoWay.acceptEvent(crm, event.eventId, at);
      if (state === 'applied') repeated++;
      else toQueue.push(event);
    }
    await send(crm, toQueue);
    logger.info('CRM delivery stored', { crm, events: events.length, queued: toQueue.length, repeated });
    return json(200, { accepted: toQueue.length, repeated });
  }

  async function hubspot(event: APIGatewayProxyEventV2, raw: string): Promise<HttpResult> {
    let secret = (await deps.secretSource.current()).crm[SECRET_KEYS.hubspotClientSecret];
    if (!secret) return problem(503, `HubSpot webhooks are not configured: set ${SECRET_KEYS.hubspotClientSecret} (the app's client secret) in the secret`);
    const host = headerOf(event, 'host') ?? event.requestContext?.domainName ?? '';
    const uri = `https://${host}${event.rawPath ?? ''}${event.rawQueryString ? `?${event.rawQueryString}` : ''}`;
    const check = (s: string) =>
      verifyHubSpotSignature({ method: event.requestContext?.http?.method ?? 'POST', uri, body: raw, timestamp: headerOf(event, 'x-hubspot-request-timestamp'), signature: headerOf(event, 'x-hubspot-signature-v3'), secret: s, now: now() });
    let verified = check(secret);
    if (!verified.ok) {
      // A rotated client secret: read it again once before refusing.
      secret = (await deps.secretSource.refresh()).crm[SECRET_KEYS.hubspotClientSecret] ?? secret;
      verified = check(secret);
    }
    if (!verified.ok) return refused(401, verified.reason, 'hubspot');
    const parsed = parseHubSpotEvents(safeJson(raw), { customerLevelProperty: deps.customerLevelField, ...(deps.hubspotAppId && { appId: deps.hubspotAppId }) });
    if ('error' in parsed) return refused(400, parsed.error, 'hubspot');
    return accept('hubspot', parsed.events);
  }

  async function zoho(raw: string): Promise<HttpResult> {
    const token = (await deps.secretSource.current()).crm[SECRET_KEYS.zohoChannelToken];
    if (!token) return problem(503, `Zoho notifications are not configured: set ${SECRET_KEYS.zohoChannelToken} in the secret`);
    const parsed = parseZohoNotification(safeJson(raw), token);
    if ('error' in parsed) return refused(parsed.status, parsed.error, 'zoho');
    return accept('zoho', parsed.events);
  }

  async function handleHttp(event: APIGatewayProxyEventV2): Promise<HttpResult> {
    const method = event.requestContext?.http?.method ?? 'GET';
    const path = (event.rawPath ?? '').replace(/\/+$/, '');
    const crm = /^\/crm-events\/([a-z]+)$/.exec(path)?.[1];
    if (crm !== 'hubspot' && crm !== 'zoho') return problem(404, `no route ${method} ${path}: CRM deliveries go to POST /crm-events/hubspot or /crm-events/zoho (Salesforce's come through Event Relay)`);
    if (method !== 'POST') return { ...problem(405, `use POST on ${path}`), headers: { allow: 'POST', 'content-type': 'application/json' } };
    if (deps.crmKind !== crm) return problem(404, `this deployment syncs with ${deps.crmKind} (SCRM_CRM), not ${crm}`);
    const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
    if (raw.byteLength > MAX_BODY_BYTES) return problem(413, `body is ${raw.byteLength} bytes; the limit is ${MAX_BODY_BYTES}`);
    try {
      return crm === 'hubspot' ? await hubspot(event, raw.toString('utf8')) : await zoho(raw.toString('utf8'));
    } catch (error) {
      logger.error('CRM delivery not stored', error as Error);
      return problem(500, 'the delivery could not be stored; the CRM sends it again');
    }
  }

  /** One queue record: a receiver's envelope, or an EventBridge event from Salesforce's Event Relay. */
  async function applyRecord(record: SQSRecord): Promise<void> {
    const body = safeJson(record.body) as Partial<CrmEventsEnvelope> & { source?: unknown; detail?: unknown };
    let events: readonly CrmEvent[];
    if (body && body.v === 1 && Array.isArray(body.events)) {
      if (body.crm !== deps.crmKind) return void logger.warn('CRM events of another CRM than this deployment syncs with; dropped', { crm: body.crm });
      events = body.events;
    } else if (body && typeof body.source === 'string' && body.source.startsWith('aws.partner/salesforce.com')) {
      if (deps.crmKind !== 'salesforce') return void logger.warn('Salesforce events while this deployment syncs with another CRM; dropped', { crm: deps.crmKind });
      const parsed = parseSalesforceEvent(body, { customerLevelField: deps.customerLevelField, ...(deps.salesforceIntegrationUserId && { integrationUserId: deps.salesforceIntegrationUserId }) });
      if ('error' in parsed) {
        metrics.add('crmEventsRefused', 1, { crm: 'salesforce' });
        return void logger.warn('Salesforce event not understood; dropped', { reason: parsed.error });
      }
      events = parsed.events;
    } else {
      metrics.add('crmEventsRefused', 1, { crm: 'unknown' });
      return void logger.warn('crm-events record that is neither stored CRM events nor an Event Relay event; dropped', { messageId: record.messageId });
    }
    const outcome = await deps.inbound().apply(events);
    logger.info('CRM changes applied', { ...outcome });
  }

  async function handleQueue(event: SQSEvent): Promise<SQSBatchResponse> {
    return processPartialResponse(event, applyRecord, new BatchProcessor(EventType.SQS), { throwOnFullBatchFailure: false });
  }

  return { handleHttp, handleQueue, applyRecord };
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
