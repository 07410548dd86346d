/**
 * The store directory (config/stores.json) and the nearest store to a customer (AU-3/AU-4: "the
 * nearest store that has it"). Pure: the JSON comes in parsed, distances are great-circle.
 *
 * Distances are haversine on the mean Earth radius (IUGG, 6,371,008.8 m). Against the WGS 84
 * ellipsoid (the geodesic) that is off by at most ~0.56 % (north–south near the equator); across
 * Hong Kong or Taipei (≤ 30 km) that is under 170 m, and between stores a few kilometres apart a
 * few metres to a few tens (test/unit/geo.test.ts checks it against Vincenty's formula).
 */
import * as z from 'zod/mini';
import '../zod.ts';
import type { GeoPosition } from '../geo/port.ts';

const text = z.string().check(z.trim(), z.minLength(1, 'must not be empty'));
const sku = z.string().check(z.regex(/^[A-Z0-9]+(-[A-Z0-9]+)+$/, 'SKU must look like APL-IP15PM'));

export const StoreSchema = z.strictObject({
  id: z.string().check(z.regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'id must be kebab-case, like hk-central')),
  name: z.strictObject({ en: text, 'zh-Hant': text, 'zh-Hans': text, ru: text }),
  address: text,
  /** ISO 3166-1 alpha-2. */
  country: z.string().check(z.regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code like HK')),
  lat: z.number().check(z.gte(-90), z.lte(90)),
  lon: z.number().check(z.gte(-180), z.lte(180)),
  openingHours: text,
  /** Units on hand per SKU (config/intelligence/catalogue.json). */
  stock: z.record(sku, z.int().check(z.gte(0, 'stock cannot be negative'))),
});
export type Store = z.infer<typeof StoreSchema>;

export const StoresFileSchema = z.strictObject({
  version: z.optional(text),
  stores: z.array(StoreSchema).check(z.minLength(1, 'needs at least one store')),
});

/** Thrown by {@link loadStores}; each problem names the entry (`stores[2] (tw-xinyi).lat: …`). */
export class StoresConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid store directory:\n  ${problems.join('\n  ')}`);
    this.name = 'StoresConfigError';
  }
}

/**
 * The store directory from config/stores.json (parsed). Fails with every problem named by its
 * entry. With `skus` (the catalogue's), a stock line for a SKU not in the catalogue is a problem.
 */
export function loadStores(json: unknown, options: { skus?: Iterable<string> } = {}): readonly Store[] {
  const problems: string[] = [];
  const raw = (json ?? {}) as { stores?: unknown };
  const entryName = (index: number): string => {
    const entry = Array.isArray(raw.stores) ? (raw.stores[index] as { id?: unknown } | undefined) : undefined;
    return typeof entry?.id === 'string' ? `stores[${index}] (${entry.id})` : `stores[${index}]`;
  };
  const parsed = StoresFileSchema.safeParse(json);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [first, index, ...rest] = issue.path;
      const where = first === 'stores' && typeof index === 'number' ? entryName(index) + rest.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('') : issue.path.map(String).join('.') || '(file)';
      problems.push(`${where}: ${issue.message}`);
    }
    throw new StoresConfigError(problems);
  }
  const known = options.skus ? new Set(options.skus) : undefined;
  const seen = new Set<string>();
  parsed.data.stores.forEach((store, index) => {
    if (seen.has(store.id)) problems.push(`${entryName(index)}.id: duplicate id`);
    seen.add(store.id);
    if (known) for (const s of Object.keys(store.stock)) if (!known.has(s)) problems.push(`${entryName(index)}.stock.${s}: not a SKU of the catalogue`);
  });
  if (problems.length > 0) throw new StoresConfigError(problems);
  return parsed.data.stores;
}

/** The mean Earth radius (IUGG R1), metres. */
export const EARTH_RADIUS_METERS = 6_371_008.8;

/** Great-circle distance in metres (haversine). */
export function haversineMeters(a: GeoPosition, b: GeoPosition): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_METERS * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Units of `sku` on hand at `store` (0 when it has none). */
export function stockOf(store: Store, sku: string): number {
  return store.stock[sku] ?? 0;
}

export interface NearestStore {
  readonly store: Store;
  readonly meters: number;
}

/**
 * The store nearest to `position`; with `sku`, the nearest that has at least one in stock; with
 * `withinMeters`, only one that near. Undefined when none qualifies. Ties go to the store listed first.
 */
export function nearestStore(stores: readonly Store[], position: GeoPosition, options: { sku?: string; withinMeters?: number } = {}): NearestStore | undefined {
  let best: NearestStore | undefined;
  for (const store of stores) {
    if (options.sku !== undefined && stockOf(store, options.sku) <= 0) continue;
    const meters = haversineMeters(position, store);
    if (options.withinMeters !== undefined && meters > options.withinMeters) continue;
    if (!best || meters < best.meters) best = { store, meters };
  }
  return best;
}
