/**
 * ID-7 and the store part of AU-3/AU-4, pure: great-circle distances against the ellipsoid, the
 * nearest store (with stock of a SKU), postal codes per country (Hong Kong has none) and the
 * completion of a customer's address; the Amazon Location adapter's pure parts (languages,
 * errors, result mapping).
 */
import { readFileSync } from 'node:fs';
import { InternalServerException, ThrottlingException, ValidationException, AccessDeniedException } from '@aws-sdk/client-geo-places';
import { describe, expect, it } from 'vitest';
import { haversineMeters, loadStores, nearestStore, StoresConfigError, type Store } from '#shared/domain/stores';
import { completeAddress, countryAlpha2, countryAlpha3, hasPostalCode, isPostalCodeMissing, usesPostalCodes } from '#shared/geo/address';
import { geocoderError, serviceLanguage, toGeoAddress } from '#shared/geo/amazon-location';
import { GeocoderError, isGeoPosition, type GeoAddress } from '#shared/geo/port';

const storesJson = JSON.parse(readFileSync(new URL('../../config/stores.json', import.meta.url), 'utf8')) as { stores: Record<string, unknown>[] };
const catalogue = JSON.parse(readFileSync(new URL('../../config/intelligence/catalogue.json', import.meta.url), 'utf8')) as { products: { sku: string }[] };
const SKUS = catalogue.products.map((p) => p.sku);
const STORES = loadStores(storesJson, { skus: SKUS });

const at = (lat: number, lon: number) => ({ lat, lon });

describe('haversineMeters', () => {
  // Reference distances: Vincenty's inverse formula on the WGS 84 ellipsoid (computed apart from
  // this code; it gives 110,574.4 m for one degree of latitude at the equator, the published value).
  const cases: [string, [number, number], [number, number], number][] = [
    ['Central store → Tsim Sha Tsui store', [22.2832, 114.156], [22.2977, 114.1722], 2316.3],
    ['Central store → Mong Kok store', [22.2832, 114.156], [22.3183, 114.1701], 4149.5],
    ['Xinyi store → Da’an store', [25.0393, 121.567], [25.0416, 121.5456], 2174.6],
    ['Taipei 101 → Taipei Main Station', [25.034, 121.5645], [25.0478, 121.517], 5031.4],
  ];
  for (const [name, a, b, geodesic] of cases) {
    it(`${name} is ${geodesic} m on the ellipsoid; haversine is within 0.5 % and 20 m`, () => {
      const meters = haversineMeters(at(...a), at(...b));
      expect(Math.abs(meters - geodesic)).toBeLessThan(Math.min(20, geodesic * 0.005));
    });
  }

  it('Hong Kong → Taipei (815,153.6 m on the ellipsoid) is within 0.5 %', () => {
    expect(Math.abs(haversineMeters(at(22.2832, 114.156), at(25.0393, 121.567)) - 815_153.6)).toBeLessThan(815_153.6 * 0.005);
  });

  it('one degree of longitude on the equator is R·π/180 on the sphere (111,194.9 m), symmetric, zero to itself', () => {
    expect(haversineMeters(at(0, 0), at(0, 1))).toBeCloseTo((6_371_008.8 * Math.PI) / 180, 3);
    expect(haversineMeters(at(25.0393, 121.567), at(22.2832, 114.156))).toBeCloseTo(haversineMeters(at(22.2832, 114.156), at(25.0393, 121.567)), 6);
    expect(haversineMeters(at(22.3, 114.17), at(22.3, 114.17))).toBe(0);
    expect(haversineMeters(at(0, 179.9), at(0, -179.9))).toBeCloseTo(2 * 11_119.49, 0);
  });
});

describe('the store directory (config/stores.json)', () => {
  it('loads with every stock line a SKU of the catalogue, in Hong Kong and Taipei', () => {
    expect(STORES.length).toBeGreaterThanOrEqual(5);
    expect(new Set(STORES.map((s) => s.country))).toEqual(new Set(['HK', 'TW']));
    for (const store of STORES) expect(Object.keys(store.name).sort()).toEqual(['en', 'ru', 'zh-Hans', 'zh-Hant']);
  });

  it('a wrong entry fails naming it: stores[4] (tw-xinyi).lat', () => {
    const bad = structuredClone(storesJson);
    (bad.stores[4] as Record<string, unknown>).lat = 95;
    expect(() => loadStores(bad)).toThrow(StoresConfigError);
    expect(() => loadStores(bad)).toThrow(/stores\[4\] \(tw-xinyi\)\.lat: /);
  });

  it('negative stock, a SKU not in the catalogue and a repeated id are each named', () => {
    const bad = structuredClone(storesJson);
    (bad.stores[0]!.stock as Record<string, number>)['APL-IP15PM'] = -1;
    expect(() => loadStores(bad)).toThrow(/stores\[0\] \(hk-central\)\.stock\.APL-IP15PM: stock cannot be negative/);

    const unknownSku = structuredClone(storesJson);
    (unknownSku.stores[1]!.stock as Record<string, number>)['APL-NOPE'] = 2;
    expect(() => loadStores(unknownSku, { skus: SKUS })).toThrow(/stores\[1\] \(hk-tsim-sha-tsui\)\.stock\.APL-NOPE: not a SKU of the catalogue/);

    const twice = structuredClone(storesJson);
    twice.stores[2]!.id = 'hk-central';
    expect(() => loadStores(twice)).toThrow(/stores\[2\] \(hk-central\)\.id: duplicate id/);
  });
});

describe('nearestStore', () => {
  const JORDAN = at(22.305, 114.1716); // Nathan Road at Jordan, Kowloon
  const TAIPEI_101 = at(25.034, 121.5645);
  const byId = (id: string) => STORES.find((s) => s.id === id) as Store;

  it('a customer at Jordan: Tsim Sha Tsui is nearest (~814 m)', () => {
    const nearest = nearestStore(STORES, JORDAN);
    expect(nearest?.store.id).toBe('hk-tsim-sha-tsui');
    expect(nearest?.meters).toBeGreaterThan(780);
    expect(nearest?.meters).toBeLessThan(850);
  });

  it('asking for APL-IP15PM: Tsim Sha Tsui has 0, so Mong Kok (1 in stock, ~1.5 km) before Central (3, ~2.9 km)', () => {
    expect(byId('hk-tsim-sha-tsui').stock['APL-IP15PM']).toBe(0);
    const nearest = nearestStore(STORES, JORDAN, { sku: 'APL-IP15PM' });
    expect(nearest?.store.id).toBe('hk-mong-kok');
    expect(Math.round((nearest?.meters ?? 0) / 100)).toBe(15);
  });

  it('asking for SNY-PS5 at Jordan: Tsim Sha Tsui (2 in stock), not Mong Kok (0)', () => {
    expect(nearestStore(STORES, JORDAN, { sku: 'SNY-PS5' })?.store.id).toBe('hk-tsim-sha-tsui');
  });

  it('at Taipei 101: Xinyi (~641 m); for HUA-M60P only Da’an has it (~2.1 km)', () => {
    expect(nearestStore(STORES, TAIPEI_101)?.store.id).toBe('tw-xinyi');
    expect(nearestStore(STORES, TAIPEI_101, { sku: 'HUA-M60P' })?.store.id).toBe('tw-daan');
  });

  it('a SKU no store stocks: no store; one only in Taipei, for a Hong Kong customer, is 800 km away unless limited', () => {
    expect(nearestStore(STORES, JORDAN, { sku: 'NIK-AF1' })).toBeUndefined();
    expect(nearestStore(STORES, JORDAN, { sku: 'DYS-V15' })?.store.id).toBe('tw-xinyi');
    expect(nearestStore(STORES, JORDAN, { sku: 'DYS-V15', withinMeters: 50_000 })).toBeUndefined();
    expect(nearestStore([], JORDAN)).toBeUndefined();
  });
});

describe('postal codes per country', () => {
  it('Hong Kong and Macau have none: never "missing", never added', () => {
    expect(usesPostalCodes('HK')).toBe(false);
    expect(usesPostalCodes('mo')).toBe(false);
    for (const text of ['香港中環皇后大道中1號', 'G/F, 68 Des Voeux Road Central, Central, Hong Kong', '香港 999077']) {
      expect(hasPostalCode(text, 'HK')).toBe(false);
      expect(isPostalCodeMissing(text, 'HK')).toBe(false);
    }
    expect(isPostalCodeMissing('澳門議事亭前地', 'MO')).toBe(false);
  });

  it('Taiwan: 3, 5 or 6 digits where a postal code is written, not house or lane numbers', () => {
    const yes = [
      '110臺北市信義區市府路1號',
      '110 台北市信義區市府路1號',
      '11049臺北市信義區市府路1號',
      '110204臺北市信義區市府路1號',
      '１１０臺北市信義區市府路1號',
      '臺灣110臺北市信義區市府路1號',
      'No. 7, Sec. 5, Xinyi Rd., Xinyi Dist., Taipei City 110, Taiwan',
      'No. 1, Shifu Rd., Xinyi Dist., Taipei City 110204',
      '郵遞區號：106 臺北市大安區新生南路二段1號',
    ];
    const no = [
      '臺北市信義區市府路1號',
      '台北市中正區重慶南路一段122號',
      '台北市大安區復興南路一段390巷2弄3號5樓',
      'No. 110, Lane 110, Sec. 2, Heping E. Rd., Da’an Dist., Taipei City',
      '台北市信義區松高路11號 電話 02-2720-8889',
    ];
    for (const text of yes) expect(hasPostalCode(text, 'TW'), text).toBe(true);
    for (const text of no) expect(hasPostalCode(text, 'TW'), text).toBe(false);
    expect(isPostalCodeMissing('臺北市信義區市府路1號', 'TW')).toBe(true);
  });

  it('China and Russia: 6 digits (not a phone number); Singapore 6 digits after the city', () => {
    expect(hasPostalCode('上海市黄浦区人民大道201号 200003', 'CN')).toBe(true);
    expect(hasPostalCode('200003上海市黄浦区人民大道201号', 'CN')).toBe(true);
    expect(hasPostalCode('上海市黄浦区人民大道201号 电话13812345678', 'CN')).toBe(false);
    expect(hasPostalCode('ул. Тверская, д. 1, Москва, 125009', 'RU')).toBe(true);
    expect(hasPostalCode('Москва, ул. Тверская, д. 1, тел. +7 495 123-45-67', 'RU')).toBe(false);
    expect(hasPostalCode('1 Raffles Place, Singapore 048616', 'SG')).toBe(true);
    expect(hasPostalCode('1 Raffles Place, #01-234, Singapore', 'SG')).toBe(false);
  });

  it('US ZIP after the state (a leading 5-digit number is a house number); UK postcodes', () => {
    expect(hasPostalCode('1600 Pennsylvania Ave NW, Washington, DC 20500', 'US')).toBe(true);
    expect(hasPostalCode('1600 Pennsylvania Ave NW, Washington, DC 20500-0003, USA', 'US')).toBe(true);
    expect(hasPostalCode('12345 Main Street, Springfield', 'US')).toBe(false);
    expect(hasPostalCode('10 Downing St, London SW1A 2AA', 'GB')).toBe(true);
    expect(hasPostalCode('10 downing st, london sw1a 2aa', 'GB')).toBe(true);
    expect(hasPostalCode('10 Downing St, London', 'GB')).toBe(false);
  });

  it('a country without a rule here is not judged', () => {
    expect(usesPostalCodes('FR')).toBeUndefined();
    expect(hasPostalCode('8 Rue de Rivoli, 75004 Paris', 'FR')).toBe(false);
    expect(isPostalCodeMissing('8 Rue de Rivoli, Paris', 'FR')).toBe(false);
    expect(isPostalCodeMissing('8 Rue de Rivoli, Paris', undefined)).toBe(false);
  });
});

describe('completeAddress', () => {
  const XINYI: GeoAddress = { label: '110臺北市信義區', postalCode: '110', country: 'TW' };

  it('Taiwan, Chinese script: the code goes first (after a leading country name)', () => {
    expect(completeAddress('臺北市信義區市府路1號', XINYI)).toEqual({ address: '110臺北市信義區市府路1號', postalCodeCompleted: true });
    expect(completeAddress('臺灣臺北市信義區市府路1號', XINYI)).toEqual({ address: '臺灣110臺北市信義區市府路1號', postalCodeCompleted: true });
  });

  it('Taiwan, English: after the city, before the country', () => {
    expect(completeAddress('No. 1, Shifu Rd., Xinyi Dist., Taipei City, Taiwan', XINYI).address).toBe('No. 1, Shifu Rd., Xinyi Dist., Taipei City 110, Taiwan');
    expect(completeAddress('No. 1, Shifu Rd., Xinyi Dist., Taipei City', XINYI).address).toBe('No. 1, Shifu Rd., Xinyi Dist., Taipei City 110');
  });

  it('a text that has a code keeps it, even another one (the customer’s wins)', () => {
    expect(completeAddress('110臺北市信義區市府路1號', XINYI)).toEqual({ address: '110臺北市信義區市府路1號', postalCodeCompleted: false });
    expect(completeAddress('106臺北市信義區市府路1號', XINYI).postalCodeCompleted).toBe(false);
  });

  it('Hong Kong: complete as written, even if a geocoder offers a code', () => {
    const hk: GeoAddress = { label: 'Central, Hong Kong', country: 'HK', postalCode: '999077' };
    expect(completeAddress('香港中環皇后大道中1號', hk)).toEqual({ address: '香港中環皇后大道中1號', postalCodeCompleted: false });
  });

  it('Russia last after a comma, China first in Chinese script, US and UK before the country', () => {
    expect(completeAddress('Красная площадь, Москва', { label: '', country: 'RU', postalCode: '109012' }).address).toBe('Красная площадь, Москва, 109012');
    expect(completeAddress('上海市黄浦区人民大道201号', { label: '', country: 'CN', postalCode: '200003' }).address).toBe('200003上海市黄浦区人民大道201号');
    expect(completeAddress('1600 Pennsylvania Ave NW, Washington, DC, USA', { label: '', country: 'US', postalCode: '20500' }).address).toBe('1600 Pennsylvania Ave NW, Washington, DC 20500, USA');
    expect(completeAddress('10 Downing St, London', { label: '', country: 'GB', postalCode: 'sw1a 2aa' }).address).toBe('10 Downing St, London SW1A 2AA');
    expect(completeAddress('1 Raffles Place, Singapore', { label: '', country: 'SG', postalCode: '048616' }).address).toBe('1 Raffles Place, Singapore 048616');
  });

  it('nothing is added from a geocoded code that is not one of its country, or without one', () => {
    expect(completeAddress('臺北市信義區市府路1號', { label: '', country: 'TW', postalCode: '1234' }).postalCodeCompleted).toBe(false);
    expect(completeAddress('臺北市信義區市府路1號', { label: '', country: 'TW' }).postalCodeCompleted).toBe(false);
    expect(completeAddress('  ', XINYI)).toEqual({ address: '', postalCodeCompleted: false });
  });

  it('a country without a rule: appended unless the text already has that code', () => {
    expect(completeAddress('8 Rue de Rivoli, Paris', { label: '', country: 'FR', postalCode: '75004' })).toEqual({ address: '8 Rue de Rivoli, Paris 75004', postalCodeCompleted: true });
    expect(completeAddress('8 Rue de Rivoli, 75004 Paris', { label: '', country: 'FR', postalCode: '75004' }).postalCodeCompleted).toBe(false);
  });
});

describe('the Amazon Location adapter, pure parts', () => {
  it('our languages to the service’s BCP 47: en, zh-Hant, zh-Hans, ru; WhatsApp’s zh_HK and zh_CN too', () => {
    expect(['en', 'zh-Hant', 'zh-Hans', 'ru', 'zh_HK', 'zh-TW', 'zh_CN', 'ZH-HANT', 'fr', 'pt-BR'].map(serviceLanguage)).toEqual(['en', 'zh-Hant', 'zh-Hans', 'ru', 'zh-Hant', 'zh-Hant', 'zh-Hans', 'zh-Hant', 'fr', 'pt-BR']);
    expect(serviceLanguage('???')).toBeUndefined();
    expect(serviceLanguage('')).toBeUndefined();
  });

  it('country codes both ways (the filter takes alpha-3, the port speaks alpha-2)', () => {
    expect(countryAlpha3('tw')).toBe('TWN');
    expect(countryAlpha3('HKG')).toBe('HKG');
    expect(countryAlpha2('MAC')).toBe('MO');
    expect(countryAlpha3('Taiwan')).toBeUndefined();
  });

  it('throttling is retryable; 5xx and no connection are retryable; refusals are not', () => {
    const $metadata = { httpStatusCode: 429 };
    const throttled = geocoderError(new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata }));
    expect(throttled).toBeInstanceOf(GeocoderError);
    expect([throttled.failure, throttled.retryable]).toEqual(['throttled', true]);
    const failed = geocoderError(new InternalServerException({ message: 'oops', Message: 'oops', $metadata: { httpStatusCode: 500 } }));
    expect([failed.failure, failed.retryable]).toEqual(['unavailable', true]);
    const invalid = geocoderError(new ValidationException({ message: 'bad', Message: 'bad', Reason: 'FieldValidationFailed', FieldList: [], $metadata: { httpStatusCode: 400 } }));
    expect([invalid.failure, invalid.retryable]).toEqual(['invalid', false]);
    const denied = geocoderError(new AccessDeniedException({ message: 'no', Message: 'no', $metadata: { httpStatusCode: 403 } }));
    expect([denied.failure, denied.retryable]).toEqual(['denied', false]);
    const refused = geocoderError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
    expect([refused.failure, refused.retryable, refused.message]).toEqual(['unavailable', true, 'no answer from Amazon Location (no connection: ECONNREFUSED)']);
  });

  it('an error never carries the address it was about', () => {
    const error = geocoderError(new ValidationException({ message: 'QueryText "台北市信義區市府路1號 0912345678" is invalid', Message: 'invalid', Reason: 'FieldValidationFailed', FieldList: [], $metadata: { httpStatusCode: 400 } }));
    expect(error.message).not.toContain('市府路');
    expect(error.message).not.toContain('0912345678');
  });

  it('a result item becomes the port’s address: [lon, lat] → {lat, lon}, alpha-3 → alpha-2', () => {
    const address = toGeoAddress({
      Title: 'x',
      Address: { Label: 'Xinyi Dist., Taipei City 110, Taiwan', Country: { Code3: 'TWN' }, District: 'Xinyi Dist.', Locality: 'Taipei City', PostalCode: '110', Region: { Name: 'Taipei City' } },
      Position: [121.5654, 25.033],
    });
    expect(address).toEqual({
      label: 'Xinyi Dist., Taipei City 110, Taiwan',
      street: undefined,
      district: 'Xinyi Dist.',
      locality: 'Taipei City',
      region: 'Taipei City',
      postalCode: '110',
      country: 'TW',
      position: { lat: 25.033, lon: 121.5654 },
    });
    expect(toGeoAddress({})).toBeUndefined();
    expect(isGeoPosition({ lat: 91, lon: 0 })).toBe(false);
    expect(isGeoPosition({ lat: Number.NaN, lon: 0 })).toBe(false);
  });
});
