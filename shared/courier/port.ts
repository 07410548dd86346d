/**
 * The courier port: what order-status replies (AU-2: "where is my parcel") and proactive logistics
 * updates (AU-2b) need from a parcel-tracking service, whatever carrier or aggregator answers.
 * AfterShip's Tracking API is the adapter today (aftership.ts); another aggregator (17TRACK,
 * TrackingMore) or a carrier's own API is another adapter behind the same port — docs/couriers.md.
 *
 * Adapters only translate: the courier's status vocabulary becomes one of {@link PARCEL_STATES},
 * its delivery estimates become one ETA window, and its failures become a {@link CourierError}
 * whose kind tells the caller what to do. Everything here is plain data; formatting a reply is
 * pure (format.ts).
 */

/**
 * Where a parcel is, in the order a parcel normally goes through them. These are AfterShip's nine
 * delivery statuses (tags), which most aggregators share in some form; an adapter maps its
 * courier's vocabulary onto them.
 */
export const PARCEL_STATES = [
  /** Registered for tracking; the courier has reported nothing yet. */
  'pending',
  /** The courier has the shipment's details (a label exists); not picked up yet. */
  'info_received',
  'in_transit',
  'out_for_delivery',
  /** The courier tried to deliver and could not (nobody home, closed business…). */
  'attempt_fail',
  'delivered',
  /** Waiting at a pickup point, locker or post office for the customer. */
  'available_for_pickup',
  /** Held at customs, returned to sender, damaged, lost… (stateText says which). */
  'exception',
  /** No news from the courier for a long time (AfterShip: 30 days); no longer tracked. */
  'expired',
] as const;

export type ParcelState = (typeof PARCEL_STATES)[number];

/** States after which nothing more happens to the parcel on its way to the customer. */
export const FINAL_PARCEL_STATES: ReadonlySet<ParcelState> = new Set(['delivered', 'expired']);

/**
 * When the parcel is expected: a window in epoch ms, `from` inclusive, `to` exclusive.
 * - the courier gave a window (earliest and latest): that window;
 * - it gave one instant: that instant ± 2 h (AU-2: "an ETA window of ±2 h");
 * - it gave a whole day (a date without a time): that day, midnight to midnight, in the
 *   destination's time zone when known, else the adapter's configured zone, else UTC.
 * `precision` says whether the window is made of days (show dates) or of times (show hours).
 */
export interface EtaWindow {
  readonly from: number;
  readonly to: number;
  readonly precision: 'day' | 'time';
}

export interface ParcelCheckpoint {
  /** When the event happened (epoch ms). */
  readonly at: number;
  /** Where, as the courier wrote it (a city, a facility). */
  readonly location?: string | undefined;
  /** The courier's own text: may echo personal data (a signer's name): never log it. */
  readonly message?: string | undefined;
}

export interface ParcelStatus {
  readonly trackingNumber: string;
  /** The courier's code (AfterShip's `slug`, e.g. `sf-express`, `ups`). */
  readonly carrier?: string | undefined;
  readonly state: ParcelState;
  /**
   * The normalised reason of the state (AfterShip's `subtag_message`, e.g. "Customs hold"),
   * else the last checkpoint's message. For agents and the CRM; not logged.
   */
  readonly stateText?: string | undefined;
  /** The finer state the courier gave (AfterShip's `subtag`, e.g. `Exception_010`), for rules. */
  readonly subState?: string | undefined;
  readonly eta?: EtaWindow | undefined;
  /** A page the customer can open to follow the parcel. */
  readonly trackingUrl?: string | undefined;
  /** When the courier's record last changed (epoch ms). */
  readonly updatedAt: number;
  readonly lastCheckpoint?: ParcelCheckpoint | undefined;
}

/** How long a call may take: the caller's time budget (e.g. what is left of a Lambda invocation). */
export interface CourierCallOptions {
  /** Epoch ms by which the call must be over — answered, or failed as `transient`. */
  readonly deadline?: number | undefined;
}

export interface CourierAdapter {
  readonly kind: string;
  /**
   * The parcel's status now. `undefined` when the courier does not know the parcel (no such
   * tracking number, or one no carrier recognises). An adapter that must register a parcel before
   * it can follow it (AfterShip) does so here, so that status webhooks follow (AU-2b).
   * Throws {@link CourierError} for every failure.
   */
  track(trackingNumber: string, carrier?: string, options?: CourierCallOptions): Promise<ParcelStatus | undefined>;
}

export type CourierErrorKind =
  /** 429: come back after retryAfterMs. */
  | 'rate_limited'
  /** 5xx, timeout, network, no time left: worth retrying. */
  | 'transient'
  /** 401/403: the API key is wrong or revoked (alarm); a rotated key fixes it. */
  | 'auth'
  /** Any other 4xx: the same request cannot succeed. */
  | 'permanent';

/**
 * A courier call that failed. Its message names the HTTP status and the courier's error code and
 * type — never the tracking number, the courier's error text or anything else it answered, which
 * may echo personal data: the error is logged.
 */
export class CourierError extends Error {
  override readonly name = 'CourierError';
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;
  /** The courier's own error code (AfterShip's `meta.code`, e.g. 4012). */
  readonly code: number | undefined;

  constructor(
    readonly kind: CourierErrorKind,
    message: string,
    details: { readonly status?: number | undefined; readonly retryAfterMs?: number | undefined; readonly code?: number | undefined } = {},
  ) {
    super(message);
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.code = details.code;
  }

  get retryable(): boolean {
    return this.kind !== 'permanent';
  }
}

/** A status change the courier pushed (AU-2b). */
export interface CourierWebhookEvent {
  /**
   * Deterministic: the courier's own event id when it gives one (AfterShip's `event_id`, the same
   * on every retry of a delivery), else `<kind>:<trackingNumber>:<state>:<updatedAt>`. The
   * idempotency key of whatever the event triggers (one update template per event).
   */
  readonly eventId: string;
  /** The courier's event code (AfterShip: `tracking_update`, `edd_revise`, `tracking_pending_time`). */
  readonly event: string;
  /**
   * True when this is the first update under this state (AfterShip's `is_tracking_first_tag`):
   * the one worth telling the customer about; later ones under the same state are new checkpoints.
   */
  readonly firstOfState?: boolean | undefined;
  readonly parcel: ParcelStatus;
}
