/**
 * HubSpot's webhooks of a project-based app (SY-3), pure: the v3 signature and the events.
 *
 * Signature v3 (HubSpot "Validating requests"): `X-HubSpot-Signature-v3` is
 * base64(HMAC-SHA256(client secret, method + URI + body + `X-HubSpot-Request-Timestamp`)), the
 * URI as HubSpot called it (`https://` + Host + path and query) with the characters HubSpot's
 * docs list (`%3A` `%2F` `%3F` `%40` `%21` `%24` `%27` `%28` `%29` `%2A` `%2C` `%3B`) decoded; a
 * timestamp more than 5 minutes away is refused, so a captured delivery cannot be replayed later.
 *
 * Events are a JSON array (HubSpot batches up to 100); each names its subscription
 * (`object.propertyChange` with `objectTypeId` 0-1 for contacts, 0-3 for deals, or the legacy
 * `contact.propertyChange` / `deal.propertyChange`), the record (`objectId`), the property and its
 * new value, when (`occurredAt`, ms) and who (`changeSource`: CRM_UI, INTEGRATION, API, IMPORT …;
 * `sourceId`: `userId:<id>` for a person, the app's id for an integration). The app subscribes in
 * its `webhooks-hsmeta.json` to {@link webhookSubscriptions}.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import '../../zod.ts';
import type { CrmChange, CrmEvent, TwoWayField } from '../two-way.ts';
import { TWO_WAY_PROPERTIES } from './properties.ts';

/** The contact properties two-way sync reads and writes besides the mapped customer level. */
export const TWO_WAY_PROPERTY = {
  firstName: 'firstname',
  reply: TWO_WAY_PROPERTIES.reply,
  replyStatus: TWO_WAY_PROPERTIES.replyStatus,
  optOut: TWO_WAY_PROPERTIES.marketingOptOut,
} as const;

/** The deal property whose change to a closed stage automation sees, and those stages (HubSpot's default pipeline). */
export const DEAL_STAGE_PROPERTY = 'dealstage';
export const CLOSED_DEAL_STAGES: ReadonlySet<string> = new Set(['closedwon', 'closedlost']);

/** HubSpot's object type ids of the records two-way sync hears about. */
export const OBJECT_TYPE_ID = { contact: '0-1', deal: '0-3' } as const;

export const MAX_SIGNATURE_AGE_MS = 5 * 60_000;

/**
 * The `crmObjects` subscriptions of the app's `webhooks-hsmeta.json` (developer platform 2025.2):
 * one `object.propertyChange` per property, so HubSpot sends nothing we would skip.
 */
export function webhookSubscriptions(customerLevelProperty: string): { subscriptionType: 'object.propertyChange'; objectType: 'contact' | 'deal'; propertyName: string; active: true }[] {
  const contact = [TWO_WAY_PROPERTY.firstName, customerLevelProperty, TWO_WAY_PROPERTY.optOut, TWO_WAY_PROPERTY.reply];
  return [
    ...contact.map((propertyName) => ({ subscriptionType: 'object.propertyChange' as const, objectType: 'contact' as const, propertyName, active: true as const })),
    { subscriptionType: 'object.propertyChange', objectType: 'deal', propertyName: DEAL_STAGE_PROPERTY, active: true },
  ];
}

export interface SignedRequest {
  readonly method: string;
  /** `https://` + the Host header + path and query, as received. */
  readonly uri: string;
  /** The raw body, exactly as received (parsing and re-serialising it would change the bytes signed). */
  readonly body: string;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  /** The app's client secret. */
  readonly secret: string;
  readonly now: number;
}

export function verifyHubSpotSignature(input: SignedRequest): { ok: true } | { ok: false; reason: string } {
  if (!input.signature) return { ok: false, reason: 'X-HubSpot-Signature-v3 header is missing' };
  if (!input.timestamp) return { ok: false, reason: 'X-HubSpot-Request-Timestamp header is missing' };
  if (!input.secret) return { ok: false, reason: 'no client secret to check X-HubSpot-Signature-v3 against' };
  if (!/^\d{1,16}$/.test(input.timestamp)) return { ok: false, reason: `X-HubSpot-Request-Timestamp "${input.timestamp.slice(0, 40)}" is not milliseconds since the epoch` };
  const age = input.now - Number(input.timestamp);
  if (age > MAX_SIGNATURE_AGE_MS) return { ok: false, reason: `the request timestamp is ${Math.round(age / 1000)} s old (at most ${MAX_SIGNATURE_AGE_MS / 1000} s): stale or replayed` };
  if (-age > MAX_SIGNATURE_AGE_MS) return { ok: false, reason: `the request timestamp is ${Math.round(-age / 1000)} s in the future (at most ${MAX_SIGNATURE_AGE_MS / 1000} s)` };
  const expected = signHubSpotRequest(input.secret, input.method, input.uri, input.body, input.timestamp);
  const given = Buffer.from(input.signature, 'utf8');
  const wanted = Buffer.from(expected, 'utf8');
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return { ok: false, reason: 'X-HubSpot-Signature-v3 does not match the request' };
  return { ok: true };
}

/** The v3 signature of a request (what HubSpot sends, and what the local stand-in signs with). */
export function signHubSpotRequest(secret: string, method: string, uri: string, body: string, timestamp: string): string {
  return createHmac('sha256', secret).update(`${method.toUpperCase()}${decodeSignedUri(uri)}${body}${timestamp}`, 'utf8').digest('base64');
}

const DECODED: Readonly<Record<string, string>> = { '3A': ':', '2F': '/', '3F': '?', '40': '@', '21': '!', '24': '$', '27': "'", '28': '(', '29': ')', '2A': '*', '2C': ',', '3B': ';' };

/** HubSpot signs the URI with these characters decoded, and only these (its docs list them). */
export function decodeSignedUri(uri: string): string {
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (_, hex: string) => DECODED[hex.toUpperCase()] ?? `%${hex}`);
}

const id = z.union([z.string().check(z.minLength(1)), z.number()]);
const EventSchema = z.looseObject({
  eventId: id,
  occurredAt: z.number(),
  subscriptionType: z.string(),
  objectId: id,
  objectTypeId: z.optional(z.string()),
  propertyName: z.optional(z.string()),
  propertyValue: z.optional(z.nullable(z.union([z.string(), z.number(), z.boolean()]))),
  changeSource: z.optional(z.string()),
  sourceId: z.optional(z.nullable(z.string())),
  appId: z.optional(id),
  attemptNumber: z.optional(z.number()),
});
type HubSpotEvent = z.infer<typeof EventSchema>;
const BodySchema = z.array(EventSchema).check(z.minLength(1), z.maxLength(1000));

/** Who changed a record, as HubSpot says: INTEGRATION for an app's writes (ours when `sourceId` is our app). */
const INTEGRATION_SOURCES: ReadonlySet<string> = new Set(['INTEGRATION', 'API']);

export interface HubSpotEventOptions {
  /** The contact property the customer level is mapped to (config/crm/hubspot.json). */
  readonly customerLevelProperty: string;
  /** Our app's id (HUBSPOT_APP_ID): its own writes coming back are marked `ours`. */
  readonly appId?: string | undefined;
}

/**
 * A delivery's events as CRM-neutral changes, in the order HubSpot sent them. Unknown subscription
 * types and properties are skipped (not errors: an app may subscribe to more); an empty value is
 * a cleared one (null). A body that is not an array of HubSpot events is an error naming the field.
 */
export function parseHubSpotEvents(body: unknown, options: HubSpotEventOptions): { events: CrmEvent[] } | { error: string } {
  const parsed = BodySchema.safeParse(body);
  if (!parsed.success) return { error: `not HubSpot webhook events: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; ')}` };
  const events: CrmEvent[] = [];
  for (const e of parsed.data) {
    const change = changeOf(e, options);
    if (change) events.push({ eventId: String(e.eventId), occurredAt: e.occurredAt, change });
  }
  return { events };
}

function changeOf(e: HubSpotEvent, options: HubSpotEventOptions): CrmEvent['change'] | undefined {
  const type = e.subscriptionType;
  const isContact = type === 'contact.propertyChange' || (type === 'object.propertyChange' && e.objectTypeId === OBJECT_TYPE_ID.contact);
  const isDeal = type === 'deal.propertyChange' || (type === 'object.propertyChange' && e.objectTypeId === OBJECT_TYPE_ID.deal);
  if (!e.propertyName) return undefined;
  const raw = e.propertyValue;
  const value = raw === undefined || raw === null || raw === '' ? null : String(raw);
  const objectId = String(e.objectId);
  const at = e.occurredAt;
  if (isDeal) {
    if (e.propertyName !== DEAL_STAGE_PROPERTY || value === null || !CLOSED_DEAL_STAGES.has(value)) return undefined;
    // The event does not say whose deal it is: the adapter reads its associated contact.
    return { kind: 'ref', module: 'deals', ids: [objectId], operation: 'closed', at, fields: [DEAL_STAGE_PROPERTY] };
  }
  if (!isContact) return undefined;
  const ours = isOurs(e, options.appId);
  const field = twoWayField(e.propertyName, options.customerLevelProperty);
  let change: CrmChange | undefined;
  if (field) change = { kind: 'contact', crmId: objectId, changes: [{ field, value, at }] };
  // Unchecking the opt-out is no opt-in (that needs the customer): only a check counts.
  else if (e.propertyName === TWO_WAY_PROPERTY.optOut) change = value === 'true' ? { kind: 'contact', crmId: objectId, changes: [], optedOutAt: at } : undefined;
  // A reply cleared, or one this app wrote itself, is nothing to send.
  else if (e.propertyName === TWO_WAY_PROPERTY.reply && value !== null && !ours) {
    const crmUserId = userIdOf(e.sourceId);
    change = { kind: 'reply', replyId: hubSpotReplyId(objectId, at), contactCrmId: objectId, text: value, ...(crmUserId && { crmUserId }), at };
  }
  if (change?.kind === 'contact' && ours) return { ...change, ours };
  return change;
}

/** The reply's id: the contact and the time its reply property changed (one value of its history). */
export function hubSpotReplyId(contactId: string, at: number): string {
  return `${contactId}:${at}`;
}

export function twoWayField(property: string, customerLevelProperty: string): TwoWayField | undefined {
  if (property === TWO_WAY_PROPERTY.firstName) return 'firstName';
  if (property === customerLevelProperty) return 'customerLevel';
  return undefined;
}

/** `userId:123` → `123` (HubSpot's form for a person's change); anything else → undefined. */
export function userIdOf(sourceId: string | null | undefined): string | undefined {
  const match = /^userId:(\d+)$/.exec(sourceId ?? '');
  return match?.[1];
}

/**
 * A change this app made itself: HubSpot says INTEGRATION (API for some older paths) with our
 * app's id as `sourceId` — never judged by `appId`, which is the id of the app receiving the
 * webhook and so ours on every event, whoever made the change.
 */
function isOurs(e: HubSpotEvent, appId: string | undefined): boolean {
  if (!appId || !e.changeSource || !INTEGRATION_SOURCES.has(e.changeSource)) return false;
  const source = e.sourceId ?? '';
  return source === appId || source.endsWith(`:${appId}`);
}
