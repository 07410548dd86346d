import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';

/** A phone number as received, with its E.164 form when it could be understood (ID-1). */
export interface NormalisedPhone {
  /** Exactly what arrived, kept so that nothing is ever dropped. */
  readonly raw: string;
  /** E.164 (`+85291234567`), or undefined when the number could not be parsed. */
  readonly e164: string | undefined;
  /** True when libphonenumber considers the number valid for its region. */
  readonly valid: boolean;
  /** ISO region of the number, when known. */
  readonly region: string | undefined;
}

/**
 * Normalises a phone number to E.164. WhatsApp sends `wa_id` as digits with the country code
 * and no plus (`85291234567`); people and CRMs write local forms (`0912 345 678`, `9123 4567`),
 * so a number without a country code is read in `defaultRegion`.
 * An unparseable number is returned with `e164: undefined`: the caller keeps it and flags it.
 */
export function normalisePhone(raw: string, defaultRegion: string): NormalisedPhone {
  const trimmed = raw.trim();
  const digitsOnly = /^[0-9]{8,15}$/.test(trimmed);
  // WhatsApp ids are international numbers without the plus: try that reading first.
  const candidates = digitsOnly ? [`+${trimmed}`, trimmed] : [trimmed];
  for (const candidate of candidates) {
    const parsed = parsePhoneNumberFromString(candidate, defaultRegion as CountryCode);
    if (parsed?.isValid()) {
      return { raw, e164: parsed.number, valid: true, region: parsed.country };
    }
  }
  const possible = parsePhoneNumberFromString(candidates[0] ?? trimmed, defaultRegion as CountryCode);
  if (possible?.isPossible()) {
    return { raw, e164: possible.number, valid: false, region: possible.country };
  }
  return { raw, e164: undefined, valid: false, region: undefined };
}

/** `+85291234567` → `+852******67`: for logs, which must never carry a phone in clear (OP-4). */
export function maskPhone(phone: string | undefined): string | undefined {
  if (!phone) return phone;
  if (phone.length <= 6) return '*'.repeat(phone.length);
  return `${phone.slice(0, 4)}${'*'.repeat(phone.length - 6)}${phone.slice(-2)}`;
}
