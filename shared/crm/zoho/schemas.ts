/**
 * The parts of Zoho's answers the adapter depends on (docs/zoho.md lists the sources):
 * - the accounts server's token answer `{ access_token, api_domain, expires_in }` and its errors
 *   `{ error }` / `{ error: "Access Denied", error_description, status: "failure" }`;
 * - a request-level error `{ code, details, message, status: "error" }`;
 * - a write answer `{ data: [{ code, details, message, status, action?, duplicate_field? }] }`
 *   with one entry per record, in the order sent;
 * - a read answer `{ data: [record…], info? }` (204 No Content when nothing matches).
 */
import * as z from 'zod/mini';
import '../../zod.ts';

const id = z.union([z.string().check(z.minLength(1)), z.number()]);

export const tokenAnswer = z.looseObject({
  access_token: z.string().check(z.minLength(1)),
  api_domain: z.optional(z.string()),
  /** Seconds (3600). Old answers also carried `expires_in_sec`, with `expires_in` in ms. */
  expires_in: z.optional(z.number()),
  expires_in_sec: z.optional(z.number()),
});

export const tokenError = z.looseObject({
  error: z.string(),
  error_description: z.optional(z.string()),
  status: z.optional(z.string()),
});

export const errorBody = z.looseObject({
  code: z.string(),
  details: z.optional(z.unknown()),
  message: z.optional(z.string()),
  status: z.optional(z.string()),
});

const duplicateRecord = z.looseObject({ id: z.optional(id) });

const resultDetails = z.looseObject({
  id: z.optional(id),
  api_name: z.optional(z.string()),
  json_path: z.optional(z.string()),
  expected_data_type: z.optional(z.string()),
  duplicate_record: z.optional(duplicateRecord),
});

export const recordResult = z.looseObject({
  code: z.string(),
  status: z.optional(z.string()),
  message: z.optional(z.string()),
  action: z.optional(z.string()),
  duplicate_field: z.optional(z.nullable(z.string())),
  details: z.optional(resultDetails),
});
export type RecordResult = z.infer<typeof recordResult>;

export const writeAnswer = z.object({ data: z.array(recordResult) });

export const zohoRecord = z.looseObject({ id });
export type ZohoRecord = Readonly<Record<string, unknown>> & { readonly id: string };

export const readAnswer = z.object({
  data: z.array(zohoRecord),
  info: z.optional(z.looseObject({ more_records: z.optional(z.boolean()) })),
});

/** A record as the adapter uses it: `id` always a string. */
export function asRecord(raw: z.infer<typeof zohoRecord>): ZohoRecord {
  return { ...raw, id: String(raw.id) };
}

export function idOf(value: string | number | undefined): string | undefined {
  return value === undefined ? undefined : String(value);
}
