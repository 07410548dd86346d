/**
 * The real AmazonLocationGeocoder over a real GeoPlacesClient (SigV4-signed, REST-JSON) pointed at
 * the local geo-places stand-in (local/geocoder): reverse geocoding a Taipei point gives its postal
 * code, a Taipei address typed without one is completed, an unknown place is nothing found, and
 * the service's throttling, failures and slowness reach the caller as retryable errors.
 */
import { GeoPlacesClient, ReverseGeocodeCommand, ValidationException } from '@aws-sdk/client-geo-places';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGeocoderStandIn, type GeocoderStandIn } from '#local/geocoder/server';
import { completeAddress, hasPostalCode } from '#shared/geo/address';
import { AmazonLocationGeocoder } from '#shared/geo/amazon-location';
import { GeocoderError } from '#shared/geo/port';

let standIn: GeocoderStandIn;
let client: GeoPlacesClient;
let geocoder: AmazonLocationGeocoder;

beforeAll(async () => {
  standIn = await startGeocoderStandIn({ port: 0 });
  client = new GeoPlacesClient({
    endpoint: standIn.url,
    region: 'ap-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
    maxAttempts: 1,
  });
  geocoder = new AmazonLocationGeocoder(client, { timeoutMs: 2_000 });
});

afterAll(async () => {
  client.destroy();
  await standIn.close();
});

beforeEach(() => standIn.clearFaults());

const last = () => standIn.requests().at(-1);

describe('reverse geocoding', () => {
  it('a point beside Taipei 101 gets its address with the postal code 110, country TW', async () => {
    const address = await geocoder.reverse({ lat: 25.0338, lon: 121.5646 });
    expect(address).toMatchObject({ postalCode: '110', country: 'TW', locality: 'Taipei City', district: 'Xinyi Dist.' });
    expect(address?.label).toContain('Taipei City 110');
    expect(address?.position).toEqual({ lat: 25.034, lon: 121.5645 });
    expect(last()).toMatchObject({
      operation: 'ReverseGeocode',
      signedFor: 'geo-places',
      body: { QueryPosition: [121.5646, 25.0338], MaxResults: 1, IntendedUse: 'Storage', Language: 'en' },
    });
  });

  it('in zh-Hant the Chinese address, postal code first', async () => {
    const address = await geocoder.reverse({ lat: 25.0268, lon: 121.5436 }, { language: 'zh-Hant' });
    expect(address).toMatchObject({ label: '106臺北市大安區', postalCode: '106', district: '大安區' });
    expect(last()?.body).toMatchObject({ Language: 'zh-Hant' });
  });

  it('Mong Kok has no postal code, and its address is complete without one', async () => {
    const address = await geocoder.reverse({ lat: 22.3195, lon: 114.1692 }, { language: 'zh_HK' });
    expect(address).toMatchObject({ label: '九龍旺角', country: 'HK', district: '旺角' });
    expect(address?.postalCode).toBeUndefined();
    expect(completeAddress('九龍旺角西洋菜南街2A號', address!)).toEqual({ address: '九龍旺角西洋菜南街2A號', postalCodeCompleted: false });
  });

  it('the open Pacific is nothing found', async () => {
    await expect(geocoder.reverse({ lat: 0, lon: -150 })).resolves.toBeUndefined();
    expect(last()).toMatchObject({ status: 200, resultCount: 0 });
  });

  it('a position off the globe is refused before anything is sent (and not retryable)', async () => {
    const before = standIn.requests().length;
    const error = await geocoder.reverse({ lat: 95, lon: 121 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GeocoderError);
    expect((error as GeocoderError).failure).toBe('invalid');
    expect((error as GeocoderError).retryable).toBe(false);
    expect(standIn.requests()).toHaveLength(before);
  });
});

describe('completing an address the customer typed', () => {
  it('a Taipei address in Chinese without postal code gets 106, put first', async () => {
    const typed = '台北市大安區新生南路二段1號';
    expect(hasPostalCode(typed, 'TW')).toBe(false);
    const geocoded = await geocoder.complete(typed, { country: 'TW', language: 'zh-Hant' });
    expect(geocoded).toMatchObject({ postalCode: '106', country: 'TW' });
    const completed = completeAddress(typed, geocoded!);
    expect(completed).toEqual({ address: '106台北市大安區新生南路二段1號', postalCodeCompleted: true });
    expect(hasPostalCode(completed.address, 'TW')).toBe(true);
    expect(last()?.body).toMatchObject({ QueryText: typed, MaxResults: 1, Filter: { IncludeCountries: ['TWN'] }, IntendedUse: 'Storage', Language: 'zh-Hant' });
  });

  it('the same in English: 110 after the city, before the country', async () => {
    const typed = 'No. 7, Sec. 5, Xinyi Rd., Xinyi Dist., Taipei City, Taiwan';
    const geocoded = await geocoder.complete(typed, { country: 'tw' });
    expect(geocoded).toMatchObject({ postalCode: '110', street: 'Sec. 5, Xinyi Rd.' });
    expect(completeAddress(typed, geocoded!).address).toBe('No. 7, Sec. 5, Xinyi Rd., Xinyi Dist., Taipei City 110, Taiwan');
  });

  it('a place the map does not know is nothing found; a blank text asks nothing', async () => {
    await expect(geocoder.complete('Atlantis Boulevard 42, Lost City')).resolves.toBeUndefined();
    expect(last()).toMatchObject({ operation: 'Geocode', resultCount: 0 });
    const before = standIn.requests().length;
    await expect(geocoder.complete('   ')).resolves.toBeUndefined();
    expect(standIn.requests()).toHaveLength(before);
  });

  it('the country filter keeps results inside it: Causeway Bay is not in Taiwan', async () => {
    await expect(geocoder.complete('Causeway Bay', { country: 'TW' })).resolves.toBeUndefined();
    await expect(geocoder.complete('Causeway Bay', { country: 'HK' })).resolves.toMatchObject({ country: 'HK', district: 'Causeway Bay' });
  });

  it('Moscow in Russian: the Russian address with its index', async () => {
    const geocoded = await geocoder.complete('Красная площадь, Москва', { country: 'RU', language: 'ru' });
    expect(geocoded).toMatchObject({ label: 'Красная площадь, Москва, Россия, 109012', postalCode: '109012', country: 'RU' });
    expect(completeAddress('Красная площадь, Москва', geocoded!).address).toBe('Красная площадь, Москва, 109012');
  });

  it('a country code that is none is refused before anything is sent', async () => {
    await expect(geocoder.complete('Xinyi District', { country: 'Taiwan' })).rejects.toMatchObject({ failure: 'invalid', retryable: false });
  });
});

describe('the service failing', () => {
  it('ThrottlingException (429) is a retryable GeocoderError; the next request succeeds', async () => {
    standIn.setFault('Geocode', { error: 'ThrottlingException' });
    const error = await geocoder.complete('Xinyi District').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GeocoderError);
    expect(error).toMatchObject({ failure: 'throttled', retryable: true });
    expect(last()).toMatchObject({ status: 429, error: 'ThrottlingException' });
    await expect(geocoder.complete('Xinyi District')).resolves.toMatchObject({ postalCode: '110' });
  });

  it('InternalServerException (500) is retryable; AccessDeniedException (403) is not', async () => {
    standIn.setFault('ReverseGeocode', { error: 'InternalServerException' });
    await expect(geocoder.reverse({ lat: 25.033, lon: 121.565 })).rejects.toMatchObject({ failure: 'unavailable', retryable: true });
    standIn.setFault('*', { error: 'AccessDeniedException' });
    await expect(geocoder.reverse({ lat: 25.033, lon: 121.565 })).rejects.toMatchObject({ failure: 'denied', retryable: false });
  });

  it('no answer within the timeout is retryable', async () => {
    const slow = new AmazonLocationGeocoder(client, { timeoutMs: 100 });
    standIn.setFault('ReverseGeocode', { delayMs: 400 });
    await expect(slow.reverse({ lat: 25.033, lon: 121.565 })).rejects.toMatchObject({ failure: 'unavailable', retryable: true, message: 'no answer from Amazon Location within 100 ms' });
  });

  it('nothing listening is retryable', async () => {
    const closed = await startGeocoderStandIn();
    const url = closed.url;
    await closed.close();
    const nowhere = new GeoPlacesClient({ endpoint: url, region: 'ap-east-1', credentials: { accessKeyId: 'A', secretAccessKey: 'B' }, maxAttempts: 1 });
    await expect(new AmazonLocationGeocoder(nowhere).complete('Xinyi District')).rejects.toMatchObject({ failure: 'unavailable', retryable: true });
    nowhere.destroy();
  });
});

describe('the stand-in speaks the service’s protocol', () => {
  it('answers the pricing bucket: Stored for IntendedUse Storage, Core for SingleUse', async () => {
    const stored = await client.send(new ReverseGeocodeCommand({ QueryPosition: [121.5645, 25.034], IntendedUse: 'Storage' }));
    expect(stored.PricingBucket).toBe('Stored');
    const single = await client.send(new ReverseGeocodeCommand({ QueryPosition: [121.5645, 25.034], IntendedUse: 'SingleUse' }));
    expect(single.PricingBucket).toBe('Core');
    expect(single.ResultItems?.[0]).toMatchObject({ PlaceId: 'stand-in.tw-taipei-101', PlaceType: 'PointAddress', Address: { Country: { Code2: 'TW', Code3: 'TWN' }, PostalCode: '110' } });
  });

  it('refuses a position out of range as the service does: ValidationException with the field', async () => {
    const error = await client.send(new ReverseGeocodeCommand({ QueryPosition: [200, 0] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationException);
    expect(error).toMatchObject({ Reason: 'FieldValidationFailed', FieldList: [{ Name: 'QueryPosition' }], $metadata: { httpStatusCode: 400 } });
  });

  it('a SingleUse geocoder asks for SingleUse', async () => {
    await new AmazonLocationGeocoder(client, { intendedUse: 'SingleUse', language: 'zh-Hans' }).complete('黄浦区');
    expect(last()?.body).toMatchObject({ IntendedUse: 'SingleUse', Language: 'zh-Hans' });
  });
});
