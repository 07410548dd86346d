/**
 * The webhooks a HubSpot project app gets (SY-3), played by the local HubSpot: every change of a
 * subscribed property (the app's `webhooks-hsmeta.json`, shared/crm/hubspot/inbound.ts
 * `webhookSubscriptions`) becomes an `object.propertyChange` event, the events of one write go
 * out in one POST of a JSON array to `<target>/crm-events/hubspot`, signed v3 with the app's
 * client secret over `https://` + the target's host + path, as HubSpot signs them.
 *
 * Sent asynchronously (the API answer does not wait), in order, each POST tried a few times with
 * a doubling pause (HubSpot retries too, with `attemptNumber` counting up and a fresh signature).
 * No target yet, or deliveries paused: the events are dropped (a missed delivery, which the
 * catch-up has to find).
 */
import { OBJECT_TYPE_ID, signHubSpotRequest, webhookSubscriptions } from '#shared/crm/hubspot/inbound';
import type { PropertyChange } from './store.ts';

export interface LocalWebhookOptions {
  readonly appId: string;
  readonly clientSecret: string;
  /** The contact property the customer level is mapped to (subscribed beside the fixed ones). */
  readonly customerLevelProperty: string;
  /** The account's id in the events. */
  readonly portalId?: number;
  /** Tries per POST. Default 4. */
  readonly tries?: number;
  /** Pause before the second try, doubling. Default 100 ms. */
  readonly retryMs?: number;
}

const TIMEOUT_MS = 5000;
const PATH = '/crm-events/hubspot';
/** The object types that have subscriptions, by the store's name. */
const OBJECT_NAME: Record<string, 'contact' | 'deal'> = { contacts: 'contact', deals: 'deal' };

export class LocalHubSpotWebhooks {
  private target: string | undefined;
  private paused = false;
  private sent = 0;
  private failed = 0;
  private lastEventId = 0;
  private queue: Promise<void> = Promise.resolve();
  /** `contact.firstname` → its subscription id. */
  private readonly subscriptions: Map<string, number>;

  constructor(private readonly options: LocalWebhookOptions) {
    this.subscriptions = new Map(webhookSubscriptions(options.customerLevelProperty).map((s, i) => [`${s.objectType}.${s.propertyName}`, 1000 + i]));
  }

  setTarget(url: string): void {
    this.target = url.replace(/\/+$/, '');
  }

  pause(paused: boolean): void {
    this.paused = paused;
  }

  /** POSTs answered 2xx so far. */
  deliveries(): number {
    return this.sent;
  }

  /** POSTs given up on after every try. */
  failures(): number {
    return this.failed;
  }

  /** Resolves once every delivery queued so far is sent or given up. */
  settled(): Promise<void> {
    return this.queue;
  }

  /** The changes of one write: its subscribed ones, queued as one delivery. */
  notify(changes: readonly PropertyChange[]): void {
    const target = this.target;
    if (!target || this.paused) return;
    const events = changes.flatMap((change) => {
      const object = OBJECT_NAME[change.type];
      const subscriptionId = object ? this.subscriptions.get(`${object}.${change.property}`) : undefined;
      if (!object || subscriptionId === undefined) return [];
      return [
        {
          eventId: this.nextEventId(),
          subscriptionId,
          portalId: this.options.portalId ?? 1,
          appId: Number(this.options.appId),
          occurredAt: change.at,
          subscriptionType: 'object.propertyChange',
          attemptNumber: 0,
          objectId: Number(change.id),
          objectTypeId: OBJECT_TYPE_ID[object],
          propertyName: change.property,
          propertyValue: change.value,
          changeSource: change.origin.changeSource,
          sourceId: change.origin.sourceId,
          isSensitive: false,
        },
      ];
    });
    if (events.length === 0) return;
    this.queue = this.queue.then(() => this.deliver(target, events));
  }

  /**
   * Unique across restarts of the stand-in (a persisted stack keeps the event ids it has seen):
   * microseconds since the epoch, counting up within one.
   */
  private nextEventId(): number {
    this.lastEventId = Math.max(this.lastEventId + 1, Date.now() * 1000);
    return this.lastEventId;
  }

  private async deliver(target: string, events: readonly Record<string, unknown>[]): Promise<void> {
    const tries = this.options.tries ?? 4;
    const url = new URL(PATH, `${target}/`);
    const uri = `https://${url.host}${url.pathname}`;
    for (let attempt = 0; attempt < tries; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, (this.options.retryMs ?? 100) * 2 ** (attempt - 1)));
      const body = JSON.stringify(events.map((e) => ({ ...e, attemptNumber: attempt })));
      const timestamp = String(Date.now());
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-hubspot-signature-v3': signHubSpotRequest(this.options.clientSecret, 'POST', uri, body, timestamp),
            'x-hubspot-request-timestamp': timestamp,
            'x-hubspot-signature-version': 'v3',
          },
          body,
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        await response.arrayBuffer();
        if (response.ok) {
          this.sent += 1;
          return;
        }
        // Any other answer (4xx or 5xx) is tried again, as HubSpot does.
      } catch {
        // Unreachable or too slow: tried again.
      }
    }
    this.failed += 1;
  }
}
