/**
 * The geocoder over Amazon Location Service, Places v2 (`geo-places`): `ReverseGeocode` for a
 * position a customer shared, `Geocode` for an address a customer typed. One result each
 * (MaxResults 1: the service ranks). The caller makes the GeoPlacesClient (region, credentials,
 * `endpoint` for the local stand-in, retries: both operations are reads, so the SDK's own retries
 * are safe).
 *
 * IntendedUse defaults to `Storage`: we keep the result on the contact, and the service's terms
 * say results that are stored, even as a cache, must be asked for with `Storage` (billed in the
 * higher "Stored" pricing bucket). `SingleUse` is for a result only shown, never kept.
 * See docs/geocoding.md for the sources.
 *
 * Errors: nothing found is `undefined`; ThrottlingException is a retryable GeocoderError
 * ('throttled'); 5xx, no connection or no answer within `timeoutMs` a retryable 'unavailable';
 * ValidationException 'invalid', AccessDeniedException 'denied'. Messages are redacted and never
 * carry the address or position asked about.
 *
 * Shapes: the installed @aws-sdk/client-geo-places types (POST /v2/reverse-geocode, POST
 * /v2/geocode, REST-JSON) and the examples in
 * https://docs.aws.amazon.com/location/latest/developerguide/how-to-reverse-geocode-position.html and
 * https://docs.aws.amazon.com/location/latest/developerguide/how-to-geocode-filters.html.
 */
import {
  GeocodeCommand,
  type GeoPlacesClient,
  ReverseGeocodeCommand,
  type Address,
  type GeocodeIntendedUse,
} from '@aws-sdk/client-geo-places';
import { redact } from '../privacy.ts';
import { countryAlpha2, countryAlpha3 } from './address.ts';
import { GeocoderError, isGeoPosition, type GeoAddress, type GeoPosition, type Geocoder } from './port.ts';

export type IntendedUse = `${GeocodeIntendedUse}`;

export interface AmazonLocationOptions {
  /** Default `Storage` (the result is kept on the contact). */
  readonly intendedUse?: IntendedUse;
  /** When a call names none. Our code or any BCP 47 tag; default `en`. */
  readonly language?: string;
  /** Per request; default 5 s. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** Our language codes (shared/domain/intelligence LANGUAGES and WhatsApp's) → BCP 47 for the service. */
const LANGUAGE_TAGS: Readonly<Record<string, string>> = {
  en: 'en',
  'zh-hant': 'zh-Hant',
  'zh-hans': 'zh-Hans',
  ru: 'ru',
  zh: 'zh',
  'zh-hk': 'zh-Hant',
  'zh-tw': 'zh-Hant',
  'zh-mo': 'zh-Hant',
  'zh-cn': 'zh-Hans',
  'zh-sg': 'zh-Hans',
  'en-us': 'en',
  'en-gb': 'en',
  'ru-ru': 'ru',
};

/**
 * The service's language for one of ours: en, zh-Hant, zh-Hans, ru (also zh_HK, zh-TW, zh_CN …);
 * another well-formed BCP 47 tag as given; undefined when `code` is not a language tag.
 */
export function serviceLanguage(code: string | undefined): string | undefined {
  const tag = code?.trim().replace(/_/g, '-');
  if (!tag) return undefined;
  const known = LANGUAGE_TAGS[tag.toLowerCase()];
  if (known) return known;
  return /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/.test(tag) ? tag : undefined;
}

const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE']);

/** An exception of the SDK's (or of the connection) as a GeocoderError. */
export function geocoderError(error: unknown): GeocoderError {
  const e = (error ?? {}) as { name?: unknown; message?: unknown; code?: unknown; $fault?: unknown; $metadata?: { httpStatusCode?: number } };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const text = redact(`${name}: ${typeof e.message === 'string' ? e.message : String(error)}`);
  const status = e.$metadata?.httpStatusCode;
  const options = { cause: error };
  if (name === 'ThrottlingException' || status === 429) return new GeocoderError('throttled', `Amazon Location throttled the request (${text})`, options);
  if (name === 'AccessDeniedException' || status === 401 || status === 403) return new GeocoderError('denied', `Amazon Location refused access (${text})`, options);
  if (name === 'ValidationException') return new GeocoderError('invalid', `Amazon Location refused the request as invalid (${text})`, options);
  if (name === 'InternalServerException' || e.$fault === 'server' || (status !== undefined && status >= 500)) {
    return new GeocoderError('unavailable', `Amazon Location failed (${text})`, options);
  }
  if (status === undefined) {
    const how = typeof e.code === 'string' && NOT_CONNECTED.has(e.code) ? `no connection: ${e.code}` : text;
    return new GeocoderError('unavailable', `no answer from Amazon Location (${how})`, options);
  }
  return new GeocoderError('invalid', `Amazon Location refused the request (${text})`, options);
}

/** A result's address in the port's shape; undefined when it has no label at all. */
export function toGeoAddress(item: { Title?: string | undefined; Address?: Address | undefined; Position?: number[] | undefined }): GeoAddress | undefined {
  const a = item.Address ?? {};
  const label = a.Label ?? item.Title;
  if (!label) return undefined;
  const [lon, lat] = item.Position ?? [];
  const position = lat !== undefined && lon !== undefined && isGeoPosition({ lat, lon }) ? { lat, lon } : undefined;
  return {
    label,
    street: a.Street,
    district: a.District,
    locality: a.Locality,
    region: a.Region?.Name,
    postalCode: a.PostalCode,
    country: countryAlpha2(a.Country?.Code2 ?? a.Country?.Code3),
    position,
  };
}

export class AmazonLocationGeocoder implements Geocoder {
  readonly kind = 'amazon-location';
  private readonly intendedUse: IntendedUse;
  private readonly language: string | undefined;
  private readonly timeoutMs: number;

  constructor(
    private readonly client: GeoPlacesClient,
    options: AmazonLocationOptions = {},
  ) {
    this.intendedUse = options.intendedUse ?? 'Storage';
    this.language = serviceLanguage(options.language ?? 'en');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async reverse(position: GeoPosition, options: { language?: string } = {}): Promise<GeoAddress | undefined> {
    if (!isGeoPosition(position)) throw new GeocoderError('invalid', 'not a WGS 84 position (latitude within ±90°, longitude within ±180°)');
    const command = new ReverseGeocodeCommand({
      QueryPosition: [position.lon, position.lat],
      MaxResults: 1,
      Language: this.languageOf(options.language),
      IntendedUse: this.intendedUse,
    });
    const output = await this.call(() => this.client.send(command, { abortSignal: AbortSignal.timeout(this.timeoutMs) }));
    const item = output.ResultItems?.[0];
    return item ? toGeoAddress(item) : undefined;
  }

  async complete(text: string, options: { country?: string; language?: string } = {}): Promise<GeoAddress | undefined> {
    const query = text.trim();
    if (!query) return undefined;
    let country: string | undefined;
    if (options.country !== undefined) {
      country = countryAlpha3(options.country);
      if (!country) throw new GeocoderError('invalid', 'country must be an ISO 3166-1 alpha-2 or alpha-3 code');
    }
    const command = new GeocodeCommand({
      QueryText: query,
      MaxResults: 1,
      ...(country ? { Filter: { IncludeCountries: [country] } } : {}),
      Language: this.languageOf(options.language),
      IntendedUse: this.intendedUse,
    });
    const output = await this.call(() => this.client.send(command, { abortSignal: AbortSignal.timeout(this.timeoutMs) }));
    const item = output.ResultItems?.[0];
    const address = item ? toGeoAddress(item) : undefined;
    // The filter keeps results inside the country; a result outside it is no match.
    if (address && country && address.country && countryAlpha3(address.country) !== country) return undefined;
    return address;
  }

  private languageOf(code: string | undefined): string | undefined {
    return (code === undefined ? undefined : serviceLanguage(code)) ?? this.language;
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      const name = (error as { name?: unknown } | undefined)?.name;
      if (name === 'AbortError' || name === 'TimeoutError') {
        throw new GeocoderError('unavailable', `no answer from Amazon Location within ${this.timeoutMs} ms`, { cause: error });
      }
      throw geocoderError(error);
    }
  }
}
