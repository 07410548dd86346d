/**
 * Postal codes in addresses as customers write them (ID-7), pure: does a text carry its postal
 * code, and the text completed with the one a geocoder found. Each country writes its code in its
 * own place, so each has its own rule:
 *
 *   TW  3 digits (district), 5 (the old 3+2) or 6 (3+3, since 2020-03-03). Chinese script puts
 *       it first (110臺北市信義區…), English after the city (…, Taipei City 110, Taiwan).
 *   CN  6 digits.   RU  6 digits, last (…, Москва, 125009).   SG  6 digits (Singapore 018956).
 *   US  ZIP or ZIP+4 after the state (…, DC 20500).   GB  the postcode (…, London SW1A 2AA).
 *   HK, MO  no postal codes at all: an address there is complete without one, never "missing".
 *
 * A number is a postal code only where the country writes one: "重慶南路一段122號" and
 * "Lane 110" are house and lane numbers, not Taiwanese postal codes. Full-width digits count.
 * Countries without a rule here are not judged (see {@link usesPostalCodes}).
 */
import type { GeoAddress } from './port.ts';

/** Places with no postal code system (Hongkong Post: leave the field blank; Macau likewise). */
export const NO_POSTAL_CODES: ReadonlySet<string> = new Set(['HK', 'MO']);

interface PostalRule {
  /** What a postal code of the country looks like, whole. */
  readonly valid: RegExp;
  /** The postal codes found in a text (NFKC-normalised). */
  find(text: string): string[];
  /** Where a missing code goes in a text of Latin (or Cyrillic) script. */
  readonly latin: 'append' | 'append-comma' | 'before-country';
  /** Whether text in Chinese script gets it first (110臺北市…). */
  readonly cjkFirst: boolean;
}

const HAN = /\p{Script=Han}/u;
/** A house, floor, unit or lane number follows: not a postal code. */
const UNIT_AFTER = /^\s*(?:號|号|樓|楼|巷|弄|段|室|之|栋|棟|單元|单元|F\b|f\b|th\b|st\b|nd\b|rd\b)/u;
/** A house, unit or lane number precedes. */
const UNIT_BEFORE = /(?:\bNo\.?|#|\bRm\.?|\bRoom|\bFlat|\bUnit|\bSuite|\bLane|\bLn\.?|\bAlley|\bAly\.?|\bSec\.?|\bд\.|\bдом|\bкв\.?|\bкорп\.?|\bстр\.?)\s*$/iu;
/** A leading country name in Chinese script. */
const CJK_COUNTRY_FIRST = /^\s*(?:中華民國|中华民国|臺灣|台灣|台湾|中华人民共和国|中華人民共和國|中国|中國)\s*/u;
/** A trailing country name in Latin script (Singapore is its own city, Russia writes the code last). */
const LATIN_COUNTRY_LAST =
  /,?\s*(?:Taiwan(?:\s*\(R\.?O\.?C\.?\))?|R\.?O\.?C\.?|USA|U\.S\.A\.|United States(?: of America)?|UK|U\.K\.|United Kingdom|Great Britain|England|Scotland|Wales|Northern Ireland|China|P\.?R\.?C\.?|People's Republic of China)\s*\.?\s*$/iu;
/** "postal code: …" written out, in the languages we see. */
const LABELLED = /(?:郵遞區號|郵政編碼|邮政编码|郵編|邮编|郵便番号|zip(?:\s*code)?|postal\s*code|post\s*code|postcode|почтовый\s+индекс|индекс)\s*[:：#]?\s*([A-Za-z0-9][A-Za-z0-9 -]{1,9}[A-Za-z0-9])/giu;

interface DigitRun {
  readonly digits: string;
  readonly before: string;
  readonly after: string;
}

function digitRuns(text: string): DigitRun[] {
  return [...text.matchAll(/\d+/g)].map((m) => ({ digits: m[0], before: text.slice(0, m.index), after: text.slice(m.index + m[0].length) }));
}

/** Digit runs of one of `lengths` that are not a house, floor, lane or unit number. */
function standalone(text: string, lengths: readonly number[], joined?: RegExp): DigitRun[] {
  return digitRuns(text).filter(
    (r) => lengths.includes(r.digits.length) && !UNIT_AFTER.test(r.after) && !UNIT_BEFORE.test(r.before) && !(joined && (joined.test(r.before) || /^[-–]\d/.test(r.after))),
  );
}

const SIX_DIGITS = (text: string) => standalone(text, [6], /\d[-–]$/).map((r) => r.digits);

/** Taiwan: 5 or 6 digits anywhere sensible; 3 digits only where a postal code is written. */
function findTaiwan(text: string): string[] {
  const found: string[] = [];
  for (const run of standalone(text, [3, 5, 6], /\d[-–]$/)) {
    if (run.digits.length > 3) {
      found.push(run.digits);
      continue;
    }
    const first = CJK_COUNTRY_FIRST.test(run.before) ? run.before.replace(CJK_COUNTRY_FIRST, '') === '' : run.before.trim() === '';
    const cityBefore = /(?:City|County|Taipei|Taiwan|District|Dist\.?|Township|Twp\.?)\s*,?\s*$/iu.test(run.before);
    const endAfter = /^\s*(?:,|$|Taiwan|\(|R\.?O\.?C)/iu.test(run.after);
    if ((first && /^\s*\p{Script=Han}/u.test(run.after)) || (cityBefore && endAfter)) found.push(run.digits);
  }
  return found;
}

/** US: a ZIP after a state abbreviation, or at the end (a leading 5-digit number is a house number). */
function findUnitedStates(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?<![\d-])(\d{5})(?:-(\d{4}))?(?![\d-])/g)) {
    const before = text.slice(0, m.index);
    const after = text.slice(m.index + m[0].length);
    const afterState = /\b[A-Z]{2}\.?\s*,?\s*$/.test(before);
    const atEnd = before.trim() !== '' && /^\s*(?:,?\s*(?:USA|U\.S\.A\.|US|United States(?: of America)?)\.?)?\s*$/iu.test(after);
    if (afterState || atEnd) found.push(m[0]);
  }
  return found;
}

const GB_POSTCODE = /\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b/giu;

const RULES: Readonly<Record<string, PostalRule>> = {
  TW: { valid: /^\d{3}(?:\d{2,3})?$/, find: findTaiwan, latin: 'before-country', cjkFirst: true },
  CN: { valid: /^\d{6}$/, find: SIX_DIGITS, latin: 'before-country', cjkFirst: true },
  RU: { valid: /^\d{6}$/, find: SIX_DIGITS, latin: 'append-comma', cjkFirst: false },
  SG: { valid: /^\d{6}$/, find: SIX_DIGITS, latin: 'append', cjkFirst: false },
  US: { valid: /^\d{5}(?:-\d{4})?$/, find: findUnitedStates, latin: 'before-country', cjkFirst: false },
  GB: { valid: /^(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})$/iu, find: (text) => [...text.matchAll(GB_POSTCODE)].map((m) => m[0]), latin: 'before-country', cjkFirst: false },
};

/**
 * true: the country has postal codes and a rule here; false: it has none (HK, MO);
 * undefined: not known here (the text is not judged).
 */
export function usesPostalCodes(country: string | undefined): boolean | undefined {
  const code = country?.trim().toUpperCase();
  if (!code) return undefined;
  if (NO_POSTAL_CODES.has(code)) return false;
  return RULES[code] ? true : undefined;
}

/**
 * Whether `text` carries a postal code of `country` (ISO alpha-2). Always false for HK and MO
 * (there are none) and for countries without a rule — so "is one missing?" is
 * {@link isPostalCodeMissing}, not `!hasPostalCode`.
 */
export function hasPostalCode(text: string, country: string | undefined): boolean {
  const rule = RULES[country?.trim().toUpperCase() ?? ''];
  if (!rule) return false;
  const normalised = text.normalize('NFKC');
  for (const m of normalised.matchAll(LABELLED)) {
    if (rule.valid.test((m[1] ?? '').trim())) return true;
  }
  return rule.find(normalised).length > 0;
}

/** A postal code is missing: the country uses them, has a rule here, and the text has none. HK never. */
export function isPostalCodeMissing(text: string, country: string | undefined): boolean {
  return usesPostalCodes(country) === true && !hasPostalCode(text, country);
}

export interface CompletedAddress {
  /** The customer's text, with the geocoder's postal code where the country writes it. */
  readonly address: string;
  readonly postalCodeCompleted: boolean;
}

/**
 * The customer's address with the postal code the geocoder found for it, when it was missing.
 * The customer's text is kept as written (never replaced by the geocoder's label): only the code
 * is added. Nothing is added for HK and MO, when the text already has a code (even another one:
 * the customer's wins), or when the geocoded code is not a valid code of its country. For a
 * country without a rule here, the code is appended unless the text already contains it.
 */
export function completeAddress(given: string, geocoded: GeoAddress): CompletedAddress {
  const text = given.trim();
  const unchanged = { address: text, postalCodeCompleted: false };
  const country = geocoded.country?.trim().toUpperCase();
  const code = geocoded.postalCode?.normalize('NFKC').trim();
  if (!text || !country || !code || NO_POSTAL_CODES.has(country)) return unchanged;

  const rule = RULES[country];
  if (!rule) {
    const squash = (s: string) => s.normalize('NFKC').replace(/[\s-]/g, '').toUpperCase();
    return squash(text).includes(squash(code)) ? unchanged : { address: `${text} ${code}`, postalCodeCompleted: true };
  }
  if (!rule.valid.test(code) || hasPostalCode(text, country)) return unchanged;
  const postal = country === 'GB' ? code.toUpperCase() : code;

  if (HAN.test(text) && rule.cjkFirst) {
    const lead = CJK_COUNTRY_FIRST.exec(text)?.[0] ?? '';
    return { address: `${lead}${postal}${text.slice(lead.length)}`, postalCodeCompleted: true };
  }
  if (rule.latin === 'append-comma') return { address: `${text.replace(/[\s,]+$/u, '')}, ${postal}`, postalCodeCompleted: true };
  if (rule.latin === 'before-country') {
    const tail = LATIN_COUNTRY_LAST.exec(text);
    if (tail && tail.index > 0) {
      const head = text.slice(0, tail.index).replace(/[\s,]+$/u, '');
      const countryName = tail[0].replace(/^[\s,]+/u, '').trim();
      return { address: `${head} ${postal}, ${countryName}`, postalCodeCompleted: true };
    }
  }
  return { address: `${text.replace(/[\s,]+$/u, '')} ${postal}`, postalCodeCompleted: true };
}

const ALPHA3: Readonly<Record<string, string>> = {
  HK: 'HKG', MO: 'MAC', TW: 'TWN', CN: 'CHN', RU: 'RUS', US: 'USA', GB: 'GBR', SG: 'SGP',
  JP: 'JPN', KR: 'KOR', MY: 'MYS', TH: 'THA', VN: 'VNM', PH: 'PHL', ID: 'IDN', IN: 'IND',
  AU: 'AUS', NZ: 'NZL', CA: 'CAN', DE: 'DEU', FR: 'FRA', IT: 'ITA', ES: 'ESP', NL: 'NLD',
  AE: 'ARE', KZ: 'KAZ', UA: 'UKR', BY: 'BLR',
};
const ALPHA2: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(ALPHA3).map(([two, three]) => [three, two]));

/** ISO 3166-1 alpha-3 for an alpha-2 (or alpha-3) code we know; undefined otherwise. */
export function countryAlpha3(code: string | undefined): string | undefined {
  const c = code?.trim().toUpperCase() ?? '';
  if (/^[A-Z]{3}$/.test(c)) return c;
  return ALPHA3[c];
}

/** ISO 3166-1 alpha-2 for an alpha-3 (or alpha-2) code we know; undefined otherwise. */
export function countryAlpha2(code: string | undefined): string | undefined {
  const c = code?.trim().toUpperCase() ?? '';
  if (/^[A-Z]{2}$/.test(c)) return c;
  return ALPHA2[c];
}
