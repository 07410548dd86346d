/** The stored shape of a customer and a message (ID-2, IN-3). */
import type { Consents } from './consent.ts';

export type LeadSource = 'whatsapp' | 'whatsapp_ad';

export interface Contact {
  readonly contactId: string;
  /** Current business-scoped user id. */
  readonly bsuid?: string;
  readonly parentBsuid?: string;
  /** Current phone in E.164, when Meta shared one. */
  readonly phone?: string;
  /** The phone exactly as received, when it could not be parsed (flagged, never dropped). */
  readonly phoneRaw?: string;
  readonly phoneFlag?: 'unparseable' | 'invalid';
  readonly previousPhones?: string[];
  readonly previousBsuids?: string[];
  readonly username?: string;
  readonly profileName?: string;
  /** phone_number_ids the customer wrote to (IN-6). */
  readonly accounts?: string[];
  readonly leadSource: LeadSource;
  readonly leadReferral?: { sourceId?: string; sourceType?: string; sourceUrl?: string; headline?: string };
  readonly firstInboundAt?: number;
  readonly lastInboundAt?: number;
  /** The customer's last message that came from a click-to-WhatsApp ad (opens the 72 h entry point). */
  readonly lastReferralAt?: number;
  readonly lastOutboundAt?: number;
  readonly lastReadAt?: number;
  readonly inboundCount?: number;
  /** Running counts of the hot words the customer used (TG-2), by hot-word id. */
  readonly hotWords?: Readonly<Record<string, number>>;
  /** Running counts of the emoji the customer used (SY-8: the CRM gets the most frequent). */
  readonly emoji?: Readonly<Record<string, number>>;
  /** Every rule tag the customer's messages carried, plus contact tags earned from hot words. */
  readonly tags?: string[];
  readonly segment?: string;
  /** When the segment last changed (the time of the message or refresh that changed it). */
  readonly segmentAt?: number;
  readonly sentimentSum?: number;
  readonly sentimentCount?: number;
  readonly lastSentiment?: number;
  readonly activityScore?: number;
  readonly priority?: number;
  readonly customerLevel: string;
  /** Consent per purpose (marketing), as state with when and how (CP-7); absent: unknown. */
  readonly consent?: Consents;
  /**
   * The contact's record in each CRM it was synced to, by CRM kind (stored as `crm_<kind>`
   * attributes; a second CRM or a migration never overwrites the first's id).
   */
  readonly crmIds?: Readonly<Partial<Record<string, CrmLink>>>;
  /** First name from the CRM (`firstname`), for personalised templates (AU-3). */
  readonly firstName?: string;
  /** The language of the customer's last message with words (automated replies use it). */
  readonly language?: string;
  /** The customer's address: from a shared location or their words, completed by the geocoder (ID-7). */
  readonly address?: ContactAddress;
  /** The customer's last order, as the CRM or the shop reported it (AU-2, AU-3 replenishment). */
  readonly lastOrder?: ContactOrder;
  /** When the customer last visited a store (AU-4's "no visit in 7 days"). */
  readonly lastStoreVisitAt?: number;
  /** Times of the customer's recent store visits and orders (the last 20), for time-window rules. */
  readonly storeVisitTimes?: number[];
  readonly orderTimes?: number[];
  /** The customer's recent orders with their SKUs (oldest first), for replenishment. */
  readonly recentOrders?: { orderId: string; placedAt: number; skus: string[] }[];
  /** The last coupon an automation gave the customer (AU-4), also written to the CRM. */
  readonly lastCoupon?: { code: string; rule: string; value: string; issuedAt: number };
  /** The customer's last satisfaction rating 1–5 (RP-13), also written to the CRM. */
  readonly satisfaction?: { score: number; at: number; conversationId?: string };
  /** The agent the conversation is assigned to (AG-1), and since when. */
  readonly agentId?: string;
  readonly assignedAt?: number;
  /** The current conversation (AG-1, RP-13): from a customer's message until resolved or 24 h quiet. */
  readonly conversation?: { id: string; startedAt: number; lastMessageAt?: number; agentId?: string; handoverAt?: number; resolvedAt?: number; rating?: number };
  /** CRM tasks created for this contact (task id → CRM id), the done marks of task jobs. */
  readonly crmTasks?: Readonly<Record<string, string>>;
  /** Marks of automation effects done once (by key, with their time). */
  readonly automationMarks?: Readonly<Record<string, number>>;
  /** Set when this contact turned out to be another one (identity evidence); the other holds its history too. */
  readonly mergedInto?: string;
  readonly mergedFrom?: string[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Where a record of ours is in one CRM. */
export interface CrmLink {
  readonly id: string;
  readonly syncedAt: number;
}

export interface ContactAddress {
  /** The whole address in one line, as the geocoder or the customer wrote it. */
  readonly label: string;
  readonly street?: string;
  readonly locality?: string;
  readonly region?: string;
  readonly postalCode?: string;
  /** ISO 3166-1 alpha-2. */
  readonly country?: string;
  readonly lat?: number;
  readonly lon?: number;
  /** Where it came from: a shared location, or the customer's words. */
  readonly source: 'location' | 'text';
  /** True when the geocoder added the postal code the customer did not give (ID-7). */
  readonly postalCodeCompleted?: boolean;
  readonly at: number;
}

export interface ContactOrder {
  /** The order's id in the CRM or shop. */
  readonly orderId: string;
  readonly placedAt: number;
  readonly skus?: string[];
  readonly amount?: number;
  readonly currency?: string;
  readonly trackingNumber?: string;
  readonly carrier?: string;
}

export type SyncState = 'pending' | 'synced' | 'failed';

/** What a customer's message says, from the intelligence rules (TG-1, TG-2, TG-5, TG-7, ID-4). */
export interface MessageAnalysis {
  readonly tags: string[];
  readonly intent: string;
  readonly sku: string | null;
  /** 0..1, 0.5 neutral. */
  readonly sentiment: number;
  readonly hotWords: Record<string, number>;
  /** The emoji the message used, with counts (absent: none). */
  readonly emoji?: Record<string, number>;
}

export interface MessageRecord {
  readonly wamid: string;
  readonly contactId: string;
  readonly direction: 'inbound' | 'outbound';
  /** Our outbox id, on a message we sent. */
  readonly outboundId?: string | undefined;
  readonly phoneNumberId: string;
  readonly wabaId: string;
  readonly type: string;
  readonly knownType: boolean;
  readonly summary: string;
  readonly text?: string;
  /**
   * The message's media (MD-1): Meta's reference as the webhook gave it, then what the media
   * function stored (`state` absent: not fetched yet).
   */
  readonly media?: {
    kind: string;
    mediaId: string;
    mimeType?: string;
    filename?: string;
    /** The webhook's sha256 (base64). */
    sha256?: string;
    state?: 'stored' | 'failed' | 'too_large';
    s3Key?: string;
    bytes?: number;
    contentType?: string;
    width?: number;
    height?: number;
    reason?: string;
    at?: number;
  };
  readonly replyTo?: string;
  readonly sentAt: number;
  readonly receivedAt: number;
  /** Highest delivery status seen for an outbound message, and the first time of each. */
  readonly status?: string;
  readonly statusAt_sent?: number;
  readonly statusAt_delivered?: number;
  readonly statusAt_read?: number;
  readonly statusAt_failed?: number;
  readonly error?: { code?: number; title?: string; message?: string };
  readonly pricing?: { billable?: boolean; pricingModel?: string; category?: string; type?: string };
  readonly syncState?: SyncState;
  readonly syncAttempts?: number;
  readonly syncError?: string;
  /** The logged message's id in each CRM, by CRM kind (a second CRM never overwrites the first's). */
  readonly crmIds?: Readonly<Partial<Record<string, string>>>;
  /** Rows synced before ids were kept per CRM: HubSpot's id (read through {@link messageCrmId}). */
  readonly crmId?: string;
  readonly syncedAt?: number;
  readonly raw?: string;
  readonly analysis?: MessageAnalysis;
  /** The opportunity this message created (purchase intent with a SKU), by CRM kind. */
  readonly opportunityCrmIds?: Readonly<Partial<Record<string, string>>>;
  /** Rows written before ids were kept per CRM: HubSpot's deal id. */
  readonly opportunityCrmId?: string;
}

/** The message's id in the CRM of `kind` (rows from before per-CRM ids hold HubSpot's in `crmId`). */
export function messageCrmId(message: Pick<MessageRecord, 'crmIds' | 'crmId'>, kind: string): string | undefined {
  return message.crmIds?.[kind] ?? (kind === 'hubspot' ? message.crmId : undefined);
}

/** The id of the opportunity the message created in the CRM of `kind`. */
export function opportunityCrmId(message: Pick<MessageRecord, 'opportunityCrmIds' | 'opportunityCrmId'>, kind: string): string | undefined {
  return message.opportunityCrmIds?.[kind] ?? (kind === 'hubspot' ? message.opportunityCrmId : undefined);
}

/** The contact's id in the CRM of `kind`. */
export function contactCrmId(contact: Pick<Contact, 'crmIds'>, kind: string): string | undefined {
  return contact.crmIds?.[kind]?.id;
}

/** Customer level given to a contact until the CRM or a purchase says otherwise (ID-6). */
export const DEFAULT_CUSTOMER_LEVEL = 'new customer';
