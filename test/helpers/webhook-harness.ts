/**
 * The webhook against real DynamoDB and SQS protocol endpoints (dynalite, fauxqs) on loopback,
 * without pollers: the sync jobs stay in the queue where a test can count them.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { IdentityResolver } from '#shared/identity/resolver';
import { createRuntime, type Runtime } from '#shared/runtime';
import type { Store } from '#shared/store/store';
import { signBody } from '#shared/whatsapp/signature';
import type { SyncJobSink } from '#shared/queue/sync-jobs';
import { createWebhookApp } from '#functions/webhook/app';
import { startLocalServices, type LocalServices } from '#local/services';

export const APP_SECRET = 'test-app-secret';
export const VERIFY_TOKEN = 'test-verify-token';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface Harness {
  readonly services: LocalServices;
  readonly runtime: Runtime;
  readonly app: ReturnType<typeof createWebhookApp>;
  /** The app with other adapters (e.g. a failing queue), same table. */
  appWith(overrides: { syncJobs?: SyncJobSink; runtime?: Runtime; store?: Store; now?: () => number }): ReturnType<typeof createWebhookApp>;
  /**
   * The store as a process that dies right after one write (`contact update`): that write lands,
   * every later store call of the same delivery fails as if the process were gone.
   */
  crashAfter(step: 'contact update'): { store: Store; syncJobs: SyncJobSink; crashed(): boolean };
  post(payload: unknown, options?: { signature?: string | null; rawBody?: string; app?: ReturnType<typeof createWebhookApp> }): ReturnType<ReturnType<typeof createWebhookApp>['handle']>;
  items(sk: 'PROFILE' | 'IDENTITY' | 'MESSAGE' | 'RAW'): Promise<Record<string, unknown>[]>;
  queuedJobs(): { wamid: string; contactId: string }[];
  stop(): Promise<void>;
}

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const services = await startLocalServices({ dataDir: undefined });
  const runtime = await createRuntime(
    { ...services.env, WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN, SCRM_DEFAULT_REGION: 'HK', ...env },
    services.overrides,
  );
  const appWith = (o: { syncJobs?: SyncJobSink; runtime?: Runtime; store?: Store; now?: () => number }) => {
    const r = o.runtime ?? runtime;
    const store = o.store ?? r.store;
    return createWebhookApp({ ...r, store, identities: new IdentityResolver(store), syncJobs: o.syncJobs ?? r.syncQueue, sendJobs: r.sendQueue, logger: silent, ...(o.now && { now: o.now }) });
  };
  const app = appWith({});
  return {
    services,
    runtime,
    app,
    appWith,
    post(payload, options = {}) {
      const body = options.rawBody ?? JSON.stringify(payload);
      const signature = options.signature === undefined ? signBody(body, APP_SECRET) : options.signature;
      return (options.app ?? app).handle(postEvent(body, signature));
    },
    async items(sk) {
      const result = await runtime.clients.documents.send(
        new ScanCommand({ TableName: runtime.config.tableName, FilterExpression: 'sk = :sk', ExpressionAttributeValues: { ':sk': sk } }),
      );
      return result.Items ?? [];
    },
    queuedJobs() {
      const queue = services.fauxqs.inspectQueue(services.names.syncQueue);
      const messages = [...(queue?.messages.ready ?? []), ...(queue?.messages.delayed ?? []), ...(queue?.messages.inflight.map((i) => i.message) ?? [])];
      return messages.map((m) => JSON.parse((m as { body: string }).body) as { wamid: string; contactId: string });
    },
    crashAfter(step) {
      let crashed = false;
      const dead = () => Promise.reject(new Error('the process is gone'));
      const afterCrash = <T extends object>(target: T, crashOn?: keyof T): T =>
        new Proxy(target, {
          get(obj, name, receiver) {
            const value = Reflect.get(obj, name, receiver) as unknown;
            if (typeof value !== 'function') return value;
            return async (...args: unknown[]) => {
              if (crashed) return dead();
              const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
              if (name === crashOn) crashed = true;
              return result;
            };
          },
        });
      const crashOn = ({ 'contact update': 'applyInbound' } as const)[step];
      const store: Store = {
        ...runtime.store,
        contacts: afterCrash(runtime.store.contacts, crashOn as keyof typeof runtime.store.contacts),
        messages: afterCrash(runtime.store.messages),
        identities: afterCrash(runtime.store.identities),
        rawEvents: afterCrash(runtime.store.rawEvents),
        syncState: afterCrash(runtime.store.syncState),
      };
      return { store, syncJobs: afterCrash(runtime.syncQueue as SyncJobSink), crashed: () => crashed };
    },
    stop: () => services.stop(),
  };
}

export function postEvent(body: string, signature: string | null, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /webhook',
    rawPath: '/webhook',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...(signature !== null && { 'x-hub-signature-256': signature }), ...headers },
    requestContext: { http: { method: 'POST', path: '/webhook', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'facebookexternalua' } } as APIGatewayProxyEventV2['requestContext'],
    body,
    isBase64Encoded: false,
  };
}

export function getEvent(query: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'GET /webhook',
    rawPath: '/webhook',
    rawQueryString: new URLSearchParams(query).toString(),
    headers: {},
    queryStringParameters: query,
    requestContext: { http: { method: 'GET', path: '/webhook', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'facebookplatform' } } as APIGatewayProxyEventV2['requestContext'],
    isBase64Encoded: false,
  };
}
