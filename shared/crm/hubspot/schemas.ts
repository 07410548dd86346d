/**
 * The parts of HubSpot's responses the adapter depends on, validated with zod. Shapes follow
 * the 2026-03/2026-09 CRM objects, associations and properties reference (docs/hubspot.md).
 */
import { z } from 'zod';

/** HubSpot's error body: `{ status: "error", message, correlationId, category, errors? }`. */
export const hubSpotErrorBody = z.object({
  message: z.string(),
  category: z.string().optional(),
  correlationId: z.string().optional(),
  errors: z.array(z.object({ message: z.string(), in: z.string().optional() })).optional(),
});

/** One value of a property's history (`propertiesWithHistory`), newest first in HubSpot's answer. */
export const propertyHistoryEntry = z.object({
  value: z.string().nullable().default(null),
  timestamp: z.string(),
  sourceType: z.string().optional(),
  sourceId: z.string().nullable().optional(),
  updatedByUserId: z.coerce.string().optional(),
});
export type PropertyHistoryEntry = z.infer<typeof propertyHistoryEntry>;

/** A CRM record ("simple public object"). Property values are strings or null. */
export const crmRecord = z.object({
  id: z.string(),
  properties: z.record(z.string(), z.string().nullable()).default({}),
  propertiesWithHistory: z.record(z.string(), z.array(propertyHistoryEntry)).optional(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  archived: z.boolean().optional(),
});
export type CrmRecord = z.infer<typeof crmRecord>;

/** Batch read answer (200 all found, 207 with `errors` for the ones not found). */
export const batchReadResult = z.object({
  status: z.string().optional(),
  results: z.array(crmRecord),
});

/** Batch update answer: 200, or 207 with `errors` (OBJECT_NOT_FOUND names the ids in `context.ids`). */
export const batchWriteResult = z.object({
  status: z.string().optional(),
  results: z.array(crmRecord).default([]),
  errors: z
    .array(z.object({ category: z.string(), context: z.object({ ids: z.array(z.string()).optional() }).partial().optional() }))
    .optional(),
});

export const searchResult = z.object({
  total: z.number(),
  results: z.array(crmRecord),
  paging: z.object({ next: z.object({ after: z.string() }).optional() }).optional(),
});

/** POST /crm/associations/{version}/{from}/{to}/batch/read */
export const associationsBatchResult = z.object({
  results: z.array(
    z.object({
      from: z.object({ id: z.coerce.string() }),
      to: z.array(z.object({ toObjectId: z.coerce.string() })),
      paging: z.object({ next: z.object({ after: z.string() }).optional() }).optional(),
    }),
  ),
});

export const propertyDefinition = z.object({
  name: z.string(),
  hasUniqueValue: z.boolean().optional(),
});

/** "Contact already exists. Existing ID: 123" — the id, when HubSpot includes it. */
export function existingIdFromConflict(body: unknown): string | undefined {
  const parsed = hubSpotErrorBody.safeParse(body);
  if (!parsed.success) return undefined;
  const texts = [parsed.data.message, ...(parsed.data.errors ?? []).map((e) => e.message)];
  for (const text of texts) {
    const match = /Existing ID:\s*(\d+)/i.exec(text);
    if (match?.[1]) return match[1];
  }
  return undefined;
}

/**
 * A write refused because a unique property value is already taken. HubSpot answers 409
 * (category CONFLICT / OBJECT_ALREADY_EXISTS); for custom unique properties a 400
 * VALIDATION_ERROR "… already has that value" has also been reported, so both count.
 */
export function isUniqueValueConflict(status: number, body: unknown): boolean {
  if (status === 409) return true;
  if (status !== 400) return false;
  const parsed = hubSpotErrorBody.safeParse(body);
  if (!parsed.success) return false;
  const texts = [parsed.data.message, ...(parsed.data.errors ?? []).map((e) => e.message)];
  return texts.some((text) => /already has that value|already exists/i.test(text));
}
