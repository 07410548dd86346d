/**
 * A local stand-in for Amazon Location Service Places v2 (`geo-places`), for exactly the two
 * operations the geocoder uses, on the service's wire protocol (REST-JSON), so the real
 * GeoPlacesClient pointed at it with `endpoint` works unchanged:
 *   POST /v2/reverse-geocode   {QueryPosition: [lon, lat], QueryRadius?, MaxResults? (1), Filter?, Language?, IntendedUse?}
 *   POST /v2/geocode           {QueryText | QueryComponents, MaxResults? (20), Filter?: {IncludeCountries?, IncludePlaceTypes?}, Language?, IntendedUse?}
 * Answers {ResultItems: [{PlaceId, PlaceType, Title, Address: {Label, Country: {Code2, Code3, Name},
 * Region, Locality, District, PostalCode, Street, AddressNumber}, Position: [lon, lat], Distance?,
 * MapView, MatchScores?}]} with the `x-amz-geo-pricing-bucket` header; errors as the SDK reads
 * them: the `x-amzn-errortype` header (ValidationException 400, AccessDeniedException 403,
 * ThrottlingException 429, InternalServerException 500) and `{"message": …}`.
 * (Paths and shapes: the SDK's dist-cjs schemas; examples in the developer guide's
 * how-to-reverse-geocode-position and how-to-geocode-filters pages.)
 *
 * Backed by a small gazetteer of real places (DEFAULT_GAZETTEER) with their real postal codes
 * (none in Hong Kong and Macau, which have no postal codes): reverse geocode answers the nearest
 * entry within QueryRadius (default 25 km: the open sea is nothing found); geocode the entries
 * one of whose names is a case-insensitive substring of the query (or the query of one), the
 * longest name first. Request signatures (SigV4) are not checked, only recorded.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { haversineMeters } from '#shared/domain/stores';
import type { GeoPosition } from '#shared/geo/port';
import { closeServer, listen, readBody as readRequestBody } from '../http.ts';

export type GeoOperation = 'ReverseGeocode' | 'Geocode';
export type GeoPlaceType = 'PointAddress' | 'PointOfInterest' | 'Street' | 'District' | 'Locality';

export interface GazetteerAddress {
  readonly label: string;
  readonly region?: string;
  readonly locality?: string;
  readonly district?: string;
  readonly street?: string;
  readonly addressNumber?: string;
}

export interface GazetteerEntry {
  readonly id: string;
  readonly placeType: GeoPlaceType;
  readonly position: GeoPosition;
  readonly country: { readonly code2: string; readonly code3: string; readonly name: string };
  readonly postalCode?: string;
  readonly en: GazetteerAddress;
  /** The address in the place's own language (zh-Hant, zh-Hans, ru), answered when asked for. */
  readonly local?: GazetteerAddress & { readonly language: string };
  /** Names a geocode query may contain, besides the labels (any case, spaces and punctuation ignored). */
  readonly names: readonly string[];
}

const HK = { code2: 'HK', code3: 'HKG', name: 'Hong Kong' };
const MO = { code2: 'MO', code3: 'MAC', name: 'Macao' };
const TW = { code2: 'TW', code3: 'TWN', name: 'Taiwan' };
const CN = { code2: 'CN', code3: 'CHN', name: 'China' };
const RU = { code2: 'RU', code3: 'RUS', name: 'Russia' };
const SG = { code2: 'SG', code3: 'SGP', name: 'Singapore' };
const GB = { code2: 'GB', code3: 'GBR', name: 'United Kingdom' };
const US = { code2: 'US', code3: 'USA', name: 'United States' };

/** Real places, real postal codes (Taipei's are the 3-digit district codes). */
export const DEFAULT_GAZETTEER: readonly GazetteerEntry[] = [
  {
    id: 'hk-central', placeType: 'District', position: { lat: 22.2819, lon: 114.1582 }, country: HK,
    en: { label: 'Central, Hong Kong', region: 'Hong Kong Island', locality: 'Hong Kong', district: 'Central' },
    local: { language: 'zh-Hant', label: '香港中環', region: '香港島', locality: '香港', district: '中環' },
    names: ['Central', '中環', '中环'],
  },
  {
    id: 'hk-tsim-sha-tsui', placeType: 'District', position: { lat: 22.2988, lon: 114.1722 }, country: HK,
    en: { label: 'Tsim Sha Tsui, Kowloon, Hong Kong', region: 'Kowloon', locality: 'Hong Kong', district: 'Tsim Sha Tsui' },
    local: { language: 'zh-Hant', label: '九龍尖沙咀', region: '九龍', locality: '香港', district: '尖沙咀' },
    names: ['Tsim Sha Tsui', '尖沙咀', '尖沙嘴'],
  },
  {
    id: 'hk-mong-kok', placeType: 'District', position: { lat: 22.3193, lon: 114.1694 }, country: HK,
    en: { label: 'Mong Kok, Kowloon, Hong Kong', region: 'Kowloon', locality: 'Hong Kong', district: 'Mong Kok' },
    local: { language: 'zh-Hant', label: '九龍旺角', region: '九龍', locality: '香港', district: '旺角' },
    names: ['Mong Kok', 'Mongkok', '旺角'],
  },
  {
    id: 'hk-causeway-bay', placeType: 'District', position: { lat: 22.2803, lon: 114.185 }, country: HK,
    en: { label: 'Causeway Bay, Hong Kong', region: 'Hong Kong Island', locality: 'Hong Kong', district: 'Causeway Bay' },
    local: { language: 'zh-Hant', label: '香港銅鑼灣', region: '香港島', locality: '香港', district: '銅鑼灣' },
    names: ['Causeway Bay', '銅鑼灣', '铜锣湾'],
  },
  {
    id: 'mo-senado-square', placeType: 'PointOfInterest', position: { lat: 22.1937, lon: 113.5399 }, country: MO,
    en: { label: 'Largo do Senado, Macao', locality: 'Macao', street: 'Largo do Senado' },
    local: { language: 'zh-Hant', label: '澳門議事亭前地', locality: '澳門', street: '議事亭前地' },
    names: ['Largo do Senado', 'Senado Square', '議事亭前地', '议事亭前地'],
  },
  {
    id: 'tw-taipei-101', placeType: 'PointAddress', position: { lat: 25.034, lon: 121.5645 }, country: TW, postalCode: '110',
    en: { label: 'No. 7, Sec. 5, Xinyi Rd., Xinyi Dist., Taipei City 110, Taiwan', region: 'Taipei City', locality: 'Taipei City', district: 'Xinyi Dist.', street: 'Sec. 5, Xinyi Rd.', addressNumber: '7' },
    local: { language: 'zh-Hant', label: '110臺北市信義區信義路五段7號', region: '臺北市', locality: '臺北市', district: '信義區', street: '信義路五段', addressNumber: '7號' },
    names: ['Taipei 101', '台北101', '信義路五段7號', '信义路五段7号', 'No. 7, Sec. 5, Xinyi Rd'],
  },
  {
    id: 'tw-xinyi', placeType: 'District', position: { lat: 25.033, lon: 121.5654 }, country: TW, postalCode: '110',
    en: { label: 'Xinyi Dist., Taipei City 110, Taiwan', region: 'Taipei City', locality: 'Taipei City', district: 'Xinyi Dist.' },
    local: { language: 'zh-Hant', label: '110臺北市信義區', region: '臺北市', locality: '臺北市', district: '信義區' },
    names: ['Xinyi Dist', 'Xinyi District', '信義區', '信义区'],
  },
  {
    id: 'tw-daan', placeType: 'District', position: { lat: 25.0268, lon: 121.5435 }, country: TW, postalCode: '106',
    en: { label: "Da'an Dist., Taipei City 106, Taiwan", region: 'Taipei City', locality: 'Taipei City', district: "Da'an Dist." },
    local: { language: 'zh-Hant', label: '106臺北市大安區', region: '臺北市', locality: '臺北市', district: '大安區' },
    names: ["Da'an Dist", "Da'an District", 'Daan District', '大安區', '大安区'],
  },
  {
    id: 'tw-zhongshan', placeType: 'District', position: { lat: 25.0642, lon: 121.5332 }, country: TW, postalCode: '104',
    en: { label: 'Zhongshan Dist., Taipei City 104, Taiwan', region: 'Taipei City', locality: 'Taipei City', district: 'Zhongshan Dist.' },
    local: { language: 'zh-Hant', label: '104臺北市中山區', region: '臺北市', locality: '臺北市', district: '中山區' },
    names: ['Zhongshan Dist', 'Zhongshan District', '中山區', '中山区'],
  },
  {
    id: 'tw-zhongzheng', placeType: 'District', position: { lat: 25.0324, lon: 121.5199 }, country: TW, postalCode: '100',
    en: { label: 'Zhongzheng Dist., Taipei City 100, Taiwan', region: 'Taipei City', locality: 'Taipei City', district: 'Zhongzheng Dist.' },
    local: { language: 'zh-Hant', label: '100臺北市中正區', region: '臺北市', locality: '臺北市', district: '中正區' },
    names: ['Zhongzheng Dist', 'Zhongzheng District', '中正區', '中正区'],
  },
  {
    id: 'cn-shanghai-museum', placeType: 'PointAddress', position: { lat: 31.2283, lon: 121.4755 }, country: CN, postalCode: '200003',
    en: { label: '201 Renmin Avenue, Huangpu District, Shanghai 200003, China', region: 'Shanghai', locality: 'Shanghai', district: 'Huangpu District', street: 'Renmin Avenue', addressNumber: '201' },
    local: { language: 'zh-Hans', label: '中国上海市黄浦区人民大道201号 200003', region: '上海市', locality: '上海市', district: '黄浦区', street: '人民大道', addressNumber: '201号' },
    names: ['Shanghai Museum', '201 Renmin Avenue', '上海博物馆', '人民大道201号', '人民大道201號'],
  },
  {
    id: 'cn-shanghai-huangpu', placeType: 'District', position: { lat: 31.2317, lon: 121.4846 }, country: CN, postalCode: '200001',
    en: { label: 'Huangpu District, Shanghai 200001, China', region: 'Shanghai', locality: 'Shanghai', district: 'Huangpu District' },
    local: { language: 'zh-Hans', label: '中国上海市黄浦区 200001', region: '上海市', locality: '上海市', district: '黄浦区' },
    names: ['Huangpu District', '黄浦区', '黃浦區'],
  },
  {
    id: 'cn-beijing-dongcheng', placeType: 'District', position: { lat: 39.9288, lon: 116.416 }, country: CN, postalCode: '100010',
    en: { label: 'Dongcheng District, Beijing 100010, China', region: 'Beijing', locality: 'Beijing', district: 'Dongcheng District' },
    local: { language: 'zh-Hans', label: '中国北京市东城区 100010', region: '北京市', locality: '北京市', district: '东城区' },
    names: ['Dongcheng District', '东城区', '東城區'],
  },
  {
    id: 'ru-moscow-red-square', placeType: 'Street', position: { lat: 55.7539, lon: 37.6208 }, country: RU, postalCode: '109012',
    en: { label: 'Red Square, Moscow, Russia, 109012', region: 'Moscow', locality: 'Moscow', street: 'Red Square' },
    local: { language: 'ru', label: 'Красная площадь, Москва, Россия, 109012', region: 'Москва', locality: 'Москва', street: 'Красная площадь' },
    names: ['Red Square', 'Красная площадь', 'Красная пл'],
  },
  {
    id: 'ru-moscow', placeType: 'Locality', position: { lat: 55.7558, lon: 37.6173 }, country: RU,
    en: { label: 'Moscow, Russia', region: 'Moscow', locality: 'Moscow' },
    local: { language: 'ru', label: 'Москва, Россия', region: 'Москва', locality: 'Москва' },
    names: ['Moscow', 'Москва'],
  },
  {
    id: 'sg-raffles-place', placeType: 'PointAddress', position: { lat: 1.284, lon: 103.8514 }, country: SG, postalCode: '048616',
    en: { label: '1 Raffles Place, Singapore 048616', locality: 'Singapore', street: 'Raffles Place', addressNumber: '1' },
    names: ['1 Raffles Place', 'One Raffles Place'],
  },
  {
    id: 'gb-downing-street', placeType: 'PointAddress', position: { lat: 51.5034, lon: -0.1276 }, country: GB, postalCode: 'SW1A 2AA',
    en: { label: '10 Downing St, London, SW1A 2AA, United Kingdom', region: 'England', locality: 'London', district: 'Westminster', street: 'Downing St', addressNumber: '10' },
    names: ['10 Downing Street', '10 Downing St'],
  },
  {
    id: 'us-white-house', placeType: 'PointAddress', position: { lat: 38.8977, lon: -77.0365 }, country: US, postalCode: '20500',
    en: { label: '1600 Pennsylvania Ave NW, Washington, DC 20500, United States', region: 'District of Columbia', locality: 'Washington', street: 'Pennsylvania Ave NW', addressNumber: '1600' },
    names: ['1600 Pennsylvania Ave', '1600 Pennsylvania Avenue', 'White House'],
  },
];

export type GeoErrorType = 'ValidationException' | 'AccessDeniedException' | 'ThrottlingException' | 'InternalServerException';

/** The answer to the next requests of an operation. */
export interface GeocoderFault {
  /** Answer this error (default: answer normally, after `delayMs`). */
  readonly error?: GeoErrorType;
  /** Wait this long before answering (a slow service). */
  readonly delayMs?: number;
  /** How many requests it answers; default 1, Infinity for all. */
  readonly times?: number;
}

export interface RecordedGeoRequest {
  readonly seq: number;
  readonly at: string;
  readonly operation: GeoOperation;
  /** The JSON body as received. */
  readonly body: unknown;
  /** The SigV4 credential scope's service (`geo-places`), when the request was signed. */
  readonly signedFor?: string | undefined;
  readonly status: number;
  readonly error?: GeoErrorType | undefined;
  readonly resultCount: number;
}

export interface GeocoderStandInOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Replaces DEFAULT_GAZETTEER. */
  readonly gazetteer?: readonly GazetteerEntry[];
  /** Reverse geocode finds nothing farther than this when the request sets no QueryRadius. Default 25 km. */
  readonly defaultRadiusMeters?: number;
}

export interface GeocoderStandIn {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  /** Every request received, oldest first (copies). */
  requests(): RecordedGeoRequest[];
  setFault(operation: GeoOperation | '*', fault: GeocoderFault): void;
  clearFaults(): void;
}

const MAX_BODY_BYTES = 64 * 1024;
const ROUTES: Readonly<Record<string, GeoOperation>> = { '/v2/reverse-geocode': 'ReverseGeocode', '/v2/geocode': 'Geocode' };
const STATUS: Readonly<Record<GeoErrorType, number>> = { ValidationException: 400, AccessDeniedException: 403, ThrottlingException: 429, InternalServerException: 500 };
const PLACE_TYPES = new Set<string>(['PointAddress', 'PointOfInterest', 'Street', 'District', 'Locality', 'InterpolatedAddress', 'Intersection', 'PostalCode', 'Region', 'Country', 'SecondaryAddress']);

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly error?: GeoErrorType;
  readonly headers?: Readonly<Record<string, string>>;
  readonly resultCount?: number;
}

class Invalid extends Error {
  constructor(
    message: string,
    readonly field: string,
    readonly reason: 'Missing' | 'FieldValidationFailed' | 'CannotParse' = 'FieldValidationFailed',
  ) {
    super(message);
  }
}

export async function startGeocoderStandIn(options: GeocoderStandInOptions = {}): Promise<GeocoderStandIn> {
  const gazetteer = options.gazetteer ?? DEFAULT_GAZETTEER;
  const defaultRadius = options.defaultRadiusMeters ?? 25_000;
  const recorded: RecordedGeoRequest[] = [];
  const faults = new Map<GeoOperation | '*', GeocoderFault & { remaining: number }>();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) reply(res, errorAnswer('InternalServerException', error instanceof Error ? error.message : String(error)));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const operation = ROUTES[path];
    if (!operation || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'UnknownOperationException' });
      res.end(JSON.stringify({ message: `No operation for ${req.method ?? 'GET'} ${path}` }));
      return;
    }
    const text = await readBody(req);
    let body: unknown;
    let answer: Answer;
    try {
      body = text === '' ? {} : (JSON.parse(text) as unknown);
    } catch {
      body = text;
    }
    const fault = takeFault(operation);
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault?.error) {
      answer = errorAnswer(fault.error, faultMessage(fault.error));
    } else if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      answer = validationAnswer(new Invalid('The request body is not a JSON object.', 'body', 'CannotParse'));
    } else {
      try {
        const request = body as Record<string, unknown>;
        const items = operation === 'ReverseGeocode' ? reverseGeocode(request) : geocode(request);
        answer = {
          status: 200,
          body: { ResultItems: items },
          headers: { 'x-amz-geo-pricing-bucket': request.IntendedUse === 'Storage' ? 'Stored' : 'Core' },
          resultCount: items.length,
        };
      } catch (error) {
        if (!(error instanceof Invalid)) throw error;
        answer = validationAnswer(error);
      }
    }
    recorded.push({
      seq: recorded.length + 1,
      at: new Date().toISOString(),
      operation,
      body,
      signedFor: signedService(req.headers.authorization),
      status: answer.status,
      error: answer.error,
      resultCount: answer.resultCount ?? 0,
    });
    reply(res, answer);
  }

  function takeFault(operation: GeoOperation): GeocoderFault | undefined {
    for (const key of [operation, '*'] as const) {
      const fault = faults.get(key);
      if (!fault) continue;
      fault.remaining -= 1;
      if (fault.remaining <= 0) faults.delete(key);
      return fault;
    }
    return undefined;
  }

  // ---- POST /v2/reverse-geocode -----------------------------------------------------------

  function reverseGeocode(request: Record<string, unknown>): unknown[] {
    const position = queryPosition(request.QueryPosition);
    const radius = optionalNumber(request.QueryRadius, 'QueryRadius', 1, 21_000_000) ?? defaultRadius;
    const max = maxResults(request.MaxResults, 1);
    common(request);
    const types = placeTypes(request.Filter);
    const language = languageOf(request.Language);
    return gazetteer
      .filter((entry) => !types || types.has(entry.placeType))
      .map((entry) => ({ entry, meters: haversineMeters(position, entry.position) }))
      .filter(({ meters }) => meters <= radius)
      .sort((a, b) => a.meters - b.meters)
      .slice(0, max)
      .map(({ entry, meters }) => resultItem(entry, language, { Distance: Math.round(meters) }));
  }

  // ---- POST /v2/geocode -------------------------------------------------------------------

  function geocode(request: Record<string, unknown>): unknown[] {
    const query = queryOf(request);
    const max = maxResults(request.MaxResults, 20);
    common(request);
    const countries = includeCountries(request.Filter);
    const types = placeTypes(request.Filter);
    const language = languageOf(request.Language);
    const q = squash(query);
    const matches: { entry: GazetteerEntry; length: number; score: number }[] = [];
    for (const entry of gazetteer) {
      if (countries && !countries.has(entry.country.code2) && !countries.has(entry.country.code3)) continue;
      if (types && !types.has(entry.placeType)) continue;
      let best = 0;
      let score = 0;
      for (const name of [...entry.names, entry.en.label, ...(entry.local ? [entry.local.label] : [])]) {
        const n = squash(name);
        if (n.length < 2) continue;
        if (q.includes(n) && n.length > best) [best, score] = [n.length, Math.min(1, n.length / q.length)];
        else if (n.includes(q) && q.length >= 2 && q.length > best) [best, score] = [q.length, q.length / n.length];
      }
      if (best > 0) matches.push({ entry, length: best, score });
    }
    return matches
      .sort((a, b) => b.length - a.length || b.score - a.score)
      .slice(0, max)
      .map(({ entry, score }) => resultItem(entry, language, { MatchScores: { Overall: Math.round(score * 100) / 100 } }));
  }

  const listening = await listen(server, options.port, options.host);

  return {
    url: listening.url,
    port: listening.port,
    async close() {
      await closeServer(server);
    },
    requests: () => structuredClone(recorded),
    setFault(operation, fault) {
      faults.set(operation, { ...fault, remaining: fault.times ?? 1 });
    },
    clearFaults: () => faults.clear(),
  };
}

// ---- request checks (the service's, as far as these fields go) ----------------------------

function queryPosition(value: unknown): GeoPosition {
  if (value === undefined) throw new Invalid('QueryPosition is required.', 'QueryPosition', 'Missing');
  if (!Array.isArray(value) || value.length !== 2 || !value.every((n) => typeof n === 'number' && Number.isFinite(n))) {
    throw new Invalid('QueryPosition must be [longitude, latitude].', 'QueryPosition');
  }
  const [lon, lat] = value as [number, number];
  if (Math.abs(lon) > 180 || Math.abs(lat) > 90) throw new Invalid('QueryPosition is outside [-180..180, -90..90].', 'QueryPosition');
  return { lat, lon };
}

function queryOf(request: Record<string, unknown>): string {
  const text = request.QueryText;
  const components = request.QueryComponents;
  if (text !== undefined && components !== undefined) throw new Invalid('Give QueryText or QueryComponents, not both.', 'QueryText');
  if (typeof text === 'string') {
    if (text.trim() === '') throw new Invalid('QueryText must not be empty.', 'QueryText');
    return text;
  }
  if (components && typeof components === 'object' && !Array.isArray(components)) {
    const parts = Object.values(components as Record<string, unknown>).filter((v): v is string => typeof v === 'string' && v.trim() !== '');
    if (parts.length > 0) return parts.join(' ');
  }
  throw new Invalid('QueryText or QueryComponents is required.', 'QueryText', 'Missing');
}

function optionalNumber(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) throw new Invalid(`${field} must be a number from ${min} to ${max}.`, field);
  return value;
}

function maxResults(value: unknown, fallback: number): number {
  const n = optionalNumber(value, 'MaxResults', 1, 100);
  if (n !== undefined && !Number.isInteger(n)) throw new Invalid('MaxResults must be a whole number.', 'MaxResults');
  return n ?? fallback;
}

function common(request: Record<string, unknown>): void {
  if (request.IntendedUse !== undefined && request.IntendedUse !== 'SingleUse' && request.IntendedUse !== 'Storage') {
    throw new Invalid('IntendedUse must be SingleUse or Storage.', 'IntendedUse');
  }
  if (request.Language !== undefined && (typeof request.Language !== 'string' || !/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(request.Language))) {
    throw new Invalid('Language must be a BCP 47 language tag.', 'Language');
  }
}

function includeCountries(filter: unknown): Set<string> | undefined {
  const list = (filter as { IncludeCountries?: unknown } | undefined)?.IncludeCountries;
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || list.length === 0 || !list.every((c) => typeof c === 'string' && /^[A-Za-z]{2,3}$/.test(c))) {
    throw new Invalid('Filter.IncludeCountries must list ISO 3166 alpha-2 or alpha-3 codes.', 'Filter.IncludeCountries');
  }
  return new Set(list.map((c: string) => c.toUpperCase()));
}

function placeTypes(filter: unknown): Set<string> | undefined {
  const list = (filter as { IncludePlaceTypes?: unknown } | undefined)?.IncludePlaceTypes;
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || list.length === 0 || !list.every((t) => typeof t === 'string' && PLACE_TYPES.has(t))) {
    throw new Invalid('Filter.IncludePlaceTypes has an unknown place type.', 'Filter.IncludePlaceTypes');
  }
  return new Set(list as string[]);
}

function languageOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value.toLowerCase() : undefined;
}

// ---- answers --------------------------------------------------------------------------------

/** The local-language address when asked for its language (any zh-* for Chinese), else English. */
function addressIn(entry: GazetteerEntry, language: string | undefined): GazetteerAddress {
  if (!entry.local || !language) return entry.en;
  const wanted = language.split('-')[0];
  const local = entry.local.language.toLowerCase().split('-')[0];
  return wanted === local ? entry.local : entry.en;
}

function resultItem(entry: GazetteerEntry, language: string | undefined, extra: Record<string, unknown>): Record<string, unknown> {
  const a = addressIn(entry, language);
  const { lat, lon } = entry.position;
  return {
    PlaceId: `stand-in.${entry.id}`,
    PlaceType: entry.placeType,
    Title: a.label,
    Address: {
      Label: a.label,
      Country: { Code2: entry.country.code2, Code3: entry.country.code3, Name: entry.country.name },
      ...(a.region ? { Region: { Name: a.region } } : {}),
      ...(a.locality ? { Locality: a.locality } : {}),
      ...(a.district ? { District: a.district } : {}),
      ...(entry.postalCode ? { PostalCode: entry.postalCode } : {}),
      ...(a.street ? { Street: a.street } : {}),
      ...(a.addressNumber ? { AddressNumber: a.addressNumber } : {}),
    },
    Position: [lon, lat],
    MapView: [lon - 0.002, lat - 0.002, lon + 0.002, lat + 0.002],
    ...extra,
  };
}

function errorAnswer(error: GeoErrorType, message: string): Answer {
  return { status: STATUS[error], error, body: { message } };
}

function validationAnswer(invalid: Invalid): Answer {
  return {
    status: 400,
    error: 'ValidationException',
    body: { message: invalid.message, reason: invalid.reason, fieldList: [{ name: invalid.field, message: invalid.message }] },
  };
}

function faultMessage(error: GeoErrorType): string {
  switch (error) {
    case 'ThrottlingException':
      return 'Rate exceeded';
    case 'AccessDeniedException':
      return 'User is not authorized to perform this action';
    case 'InternalServerException':
      return 'Internal server error';
    case 'ValidationException':
      return 'Request validation failed';
  }
}

function reply(res: ServerResponse, answer: Answer): void {
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...(answer.error ? { 'x-amzn-errortype': answer.error } : {}),
    ...answer.headers,
  });
  res.end(text);
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/geo-places/aws4_request, …` → `geo-places`. */
function signedService(authorization: string | undefined): string | undefined {
  return authorization ? /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization)?.[1] : undefined;
}

/** Case, width, spaces and punctuation ignored; 臺 read as 台. */
function squash(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/臺/g, '台').replace(/[\s,.'’()\-#/:;，。、]/gu, '');
}

const readBody = (req: IncomingMessage): Promise<string> => readRequestBody(req, MAX_BODY_BYTES);
