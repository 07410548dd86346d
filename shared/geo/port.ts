/**
 * The geocoder port (ID-7): a position → the address there (reverse), and an address a customer
 * wrote → the full address the map knows (complete), most usefully its postal code. Adapters:
 * amazon-location.ts (Amazon Location Service, Places v2). See docs/geocoding.md.
 *
 * Contract for every adapter:
 * - Nothing found is `undefined`, never an exception.
 * - A failure the caller may retry (throttled, the service down or slow) is a
 *   {@link GeocoderError} with `retryable: true`; a request the service refuses
 *   (bad input, no permission) is one with `retryable: false`.
 * - An error's message never carries the address or the position asked about (invariant 7).
 */

/** WGS 84 degrees. */
export interface GeoPosition {
  readonly lat: number;
  readonly lon: number;
}

export interface GeoAddress {
  /** The whole address as one line, formatted the way the country writes it. */
  readonly label: string;
  readonly street?: string | undefined;
  /** A district of the locality (Xinyi District, Mong Kok, Huangpu District). */
  readonly district?: string | undefined;
  readonly locality?: string | undefined;
  readonly region?: string | undefined;
  readonly postalCode?: string | undefined;
  /** ISO 3166-1 alpha-2 (HK, TW, CN, RU …). */
  readonly country?: string | undefined;
  readonly position?: GeoPosition | undefined;
}

export interface Geocoder {
  /** Which adapter, as the GEOCODER_KIND setting names it (`amazon-location`). */
  readonly kind: string;
  /** The address at (or nearest to) a position, in `language` (our codes: en, zh-Hant, zh-Hans, ru). */
  reverse(position: GeoPosition, options?: { language?: string }): Promise<GeoAddress | undefined>;
  /**
   * The best match for an address as a customer wrote it, e.g. one without its postal code.
   * `country` (ISO alpha-2) keeps the match inside one country.
   */
  complete(text: string, options?: { country?: string; language?: string }): Promise<GeoAddress | undefined>;
}

/**
 * throttled: the service's rate limit (retry later, with backoff);
 * unavailable: the service failed or did not answer in time (retry);
 * invalid: the request was refused as malformed (do not retry the same request);
 * denied: no permission (configuration: do not retry until fixed).
 */
export type GeocoderFailure = 'throttled' | 'unavailable' | 'invalid' | 'denied';

export class GeocoderError extends Error {
  readonly retryable: boolean;

  constructor(
    readonly failure: GeocoderFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GeocoderError';
    this.retryable = failure === 'throttled' || failure === 'unavailable';
  }
}

/** A finite WGS 84 position: latitude within ±90°, longitude within ±180°. */
export function isGeoPosition(position: GeoPosition): boolean {
  const { lat, lon } = position;
  return Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
}
