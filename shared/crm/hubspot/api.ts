/**
 * The HubSpot endpoints the adapter uses, on the date-versioned CRM API
 * (`/crm/objects/{version}/…`, `/crm/properties/{version}/…`, `/crm/associations/{version}/…`).
 * Each method is one request (batch reads of more than 100 ids are split) and validates the
 * answer it depends on.
 */
import { CrmError } from '#shared/crm/port';
import type { HubSpotHttp } from './http.ts';
import type { HubSpotObjectType, PropertyDefinition, PropertyGroupDefinition } from './properties.ts';
import {
  associationsBatchResult,
  batchReadResult,
  batchWriteResult,
  crmRecord,
  existingIdFromConflict,
  isUniqueValueConflict,
  propertyDefinition,
  searchResult,
  type CrmRecord,
} from './schemas.ts';
import type { z } from 'zod';

export type PropertyValues = Readonly<Record<string, string>>;

export interface AssociationInput {
  readonly toId: string;
  readonly typeId: number;
}

export type CreateOutcome =
  | { readonly kind: 'created'; readonly record: CrmRecord }
  | { readonly kind: 'conflict'; readonly existingId: string | undefined };

export type UpdateOutcome =
  | { readonly kind: 'updated'; readonly record: CrmRecord }
  | { readonly kind: 'missing' }
  | { readonly kind: 'conflict'; readonly existingId: string | undefined };

/** HubSpot's batch endpoints take at most 100 inputs. */
const BATCH_LIMIT = 100;
/** A search page holds at most 200 records. */
export const SEARCH_LIMIT = 200;

export interface SearchFilter {
  readonly propertyName: string;
  readonly operator: 'EQ' | 'NEQ' | 'GT' | 'GTE' | 'LT' | 'LTE' | 'HAS_PROPERTY' | 'NOT_HAS_PROPERTY';
  readonly value?: string;
}

export class HubSpotApi {
  constructor(
    readonly http: HubSpotHttp,
    readonly version: string,
  ) {}

  /** Same endpoints, fresh call counter, and the caller's deadline if given. */
  fork(deadline?: number): HubSpotApi {
    return new HubSpotApi(this.http.fork(deadline), this.version);
  }

  get calls(): number {
    return this.http.calls;
  }

  async create(
    objectType: HubSpotObjectType,
    properties: PropertyValues,
    associations: readonly AssociationInput[] = [],
  ): Promise<CreateOutcome> {
    const response = await this.http.send({
      method: 'POST',
      path: `/crm/objects/${this.version}/${objectType}`,
      body: {
        properties,
        associations: associations.map((a) => ({
          to: { id: a.toId },
          types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: a.typeId }],
        })),
      },
      tolerate: isUniqueValueConflict,
      creates: true,
    });
    if (response.status >= 300) return { kind: 'conflict', existingId: existingIdFromConflict(response.body) };
    return { kind: 'created', record: parse(crmRecord, response.body, 'create') };
  }

  async update(objectType: HubSpotObjectType, id: string, properties: PropertyValues): Promise<UpdateOutcome> {
    const response = await this.http.send({
      method: 'PATCH',
      path: `/crm/objects/${this.version}/${objectType}/${encodeURIComponent(id)}`,
      body: { properties },
      tolerate: (status, body) => status === 404 || isUniqueValueConflict(status, body),
    });
    if (response.status === 404) return { kind: 'missing' };
    if (response.status >= 300) return { kind: 'conflict', existingId: existingIdFromConflict(response.body) };
    return { kind: 'updated', record: parse(crmRecord, response.body, 'update') };
  }

  /** GET by record id, or by a unique property value when `idProperty` is given. */
  async read(
    objectType: HubSpotObjectType,
    id: string,
    options: { readonly idProperty?: string; readonly properties?: readonly string[] } = {},
  ): Promise<CrmRecord | undefined> {
    const response = await this.http.send({
      method: 'GET',
      path: `/crm/objects/${this.version}/${objectType}/${encodeURIComponent(id)}`,
      query: { idProperty: options.idProperty, properties: options.properties?.join(',') },
      tolerate: (status) => status === 404,
    });
    if (response.status === 404) return undefined;
    return parse(crmRecord, response.body, 'read');
  }

  /** Batch read by record ids, or by unique property values with `idProperty`. Missing ids are skipped. */
  async batchRead(
    objectType: HubSpotObjectType,
    ids: readonly string[],
    options: { readonly idProperty?: string; readonly properties: readonly string[]; readonly propertiesWithHistory?: readonly string[] },
  ): Promise<CrmRecord[]> {
    const records: CrmRecord[] = [];
    for (const chunk of chunks(unique(ids), BATCH_LIMIT)) {
      const response = await this.http.send({
        method: 'POST',
        path: `/crm/objects/${this.version}/${objectType}/batch/read`,
        body: {
          inputs: chunk.map((id) => ({ id })),
          properties: options.properties,
          ...(options.propertiesWithHistory?.length ? { propertiesWithHistory: options.propertiesWithHistory } : {}),
          ...(options.idProperty ? { idProperty: options.idProperty } : {}),
        },
      });
      records.push(...parse(batchReadResult, response.body, 'batch read').results);
    }
    return records;
  }

  /**
   * Batch update by record id (≤ 100 inputs, one request). Returns the ids HubSpot could not
   * find (deleted or merged there): its 207 answer names them in an OBJECT_NOT_FOUND error.
   */
  async batchUpdate(objectType: HubSpotObjectType, inputs: readonly { readonly id: string; readonly properties: PropertyValues }[]): Promise<{ missing: string[] }> {
    if (inputs.length > BATCH_LIMIT) throw new CrmError('permanent', `a batch update takes at most ${BATCH_LIMIT} inputs, got ${inputs.length}`, { crm: 'hubspot' });
    const response = await this.http.send({
      method: 'POST',
      path: `/crm/objects/${this.version}/${objectType}/batch/update`,
      body: { inputs: inputs.map((i) => ({ id: i.id, properties: i.properties })) },
    });
    const parsed = parse(batchWriteResult, response.body, 'batch update');
    const missing = (parsed.errors ?? []).filter((e) => e.category === 'OBJECT_NOT_FOUND').flatMap((e) => e.context?.ids ?? []);
    const other = (parsed.errors ?? []).find((e) => e.category !== 'OBJECT_NOT_FOUND');
    if (other) throw new CrmError('permanent', `HubSpot refused part of a batch update (${other.category})`, { crm: 'hubspot', status: response.status, category: other.category });
    return { missing };
  }

  /**
   * Batch create (≤ 100 inputs, one request), all or nothing: HubSpot refuses the whole batch when
   * one input is invalid or holds a unique value already taken (the caller then goes one by one).
   * `creates`: a lost answer leaves the outcome unknown, so it is never retried blindly.
   */
  async batchCreate(
    objectType: HubSpotObjectType,
    inputs: readonly { readonly properties: PropertyValues; readonly associations: readonly AssociationInput[] }[],
  ): Promise<CrmRecord[]> {
    if (inputs.length > BATCH_LIMIT) throw new CrmError('permanent', `a batch create takes at most ${BATCH_LIMIT} inputs, got ${inputs.length}`, { crm: 'hubspot' });
    const response = await this.http.send({
      method: 'POST',
      path: `/crm/objects/${this.version}/${objectType}/batch/create`,
      body: {
        inputs: inputs.map((i) => ({
          properties: i.properties,
          associations: i.associations.map((a) => ({ to: { id: a.toId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: a.typeId }] })),
        })),
      },
      creates: true,
    });
    return parse(batchWriteResult, response.body, 'batch create').results;
  }

  /** Search with OR-ed filter groups of `property EQ value`. Search lags writes: never for dedup. */
  async searchEquals(
    objectType: HubSpotObjectType,
    anyOf: readonly { readonly property: string; readonly value: string }[],
    properties: readonly string[],
  ): Promise<CrmRecord[]> {
    if (anyOf.length === 0) return [];
    const response = await this.http.send({
      method: 'POST',
      path: `/crm/objects/${this.version}/${objectType}/search`,
      body: {
        filterGroups: anyOf.map((f) => ({
          filters: [{ propertyName: f.property, operator: 'EQ', value: f.value }],
        })),
        properties,
        sorts: [{ propertyName: 'createdate', direction: 'ASCENDING' }],
        limit: 10,
      },
    });
    return parse(searchResult, response.body, 'search').results;
  }

  /**
   * One page of a search (at most 200 records; HubSpot pages no further than 10,000 per query).
   * Search lags writes by seconds: for catch-up reads, never for dedup.
   */
  async search(
    objectType: HubSpotObjectType,
    query: {
      readonly filterGroups: readonly { readonly filters: readonly SearchFilter[] }[];
      readonly sorts?: readonly { readonly propertyName: string; readonly direction: 'ASCENDING' | 'DESCENDING' }[];
      readonly properties: readonly string[];
      readonly limit: number;
      readonly after?: string | undefined;
    },
  ): Promise<{ results: CrmRecord[]; total: number; after: string | undefined }> {
    const response = await this.http.send({
      method: 'POST',
      path: `/crm/objects/${this.version}/${objectType}/search`,
      body: {
        filterGroups: query.filterGroups,
        properties: query.properties,
        ...(query.sorts ? { sorts: query.sorts } : {}),
        limit: Math.max(1, Math.min(SEARCH_LIMIT, Math.floor(query.limit))),
        ...(query.after ? { after: query.after } : {}),
      },
    });
    const parsed = parse(searchResult, response.body, 'search');
    return { results: parsed.results, total: parsed.total, after: parsed.paging?.next?.after };
  }

  /**
   * HubSpot's own merge (`POST /crm/objects/{version}/{type}/merge`): `mergeId` is merged into
   * `primaryId`. Answers the merged record, whose id is the one to keep (HubSpot may give the
   * merged record a new id), or HubSpot's refusal (400 / 404: one of them is gone or merged already).
   */
  async merge(objectType: HubSpotObjectType, primaryId: string, mergeId: string): Promise<{ kind: 'merged'; record: CrmRecord } | { kind: 'refused'; status: number; body: unknown }> {
    const response = await this.http.send({
      method: 'POST',
      path: `/crm/objects/${this.version}/${objectType}/merge`,
      body: { primaryObjectId: primaryId, objectIdToMerge: mergeId },
      tolerate: (status) => status === 400 || status === 404,
    });
    if (response.status >= 300) return { kind: 'refused', status: response.status, body: response.body };
    return { kind: 'merged', record: parse(crmRecord, response.body, 'merge') };
  }

  /** Ids of the records of `toType` associated with each of many records (≤ 100 per request, all pages). */
  async associatedIdsOfMany(fromType: HubSpotObjectType, fromIds: readonly string[], toType: HubSpotObjectType): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const chunk of chunks(unique(fromIds), BATCH_LIMIT)) {
      const response = await this.http.send({
        method: 'POST',
        path: `/crm/associations/${this.version}/${fromType}/${toType}/batch/read`,
        body: { inputs: chunk.map((id) => ({ id })) },
      });
      for (const result of parse(associationsBatchResult, response.body, 'associations read').results) {
        const ids = result.to.map((t) => t.toObjectId);
        // More than a page for one record: the rest one by one (rare: an order has few line items).
        if (result.paging?.next?.after) ids.push(...(await this.associatedIds(fromType, result.from.id, toType)).filter((id) => !ids.includes(id)));
        out.set(result.from.id, ids);
      }
    }
    return out;
  }

  /** Ids of the records of `toType` associated with one record (all pages). */
  async associatedIds(fromType: HubSpotObjectType, fromId: string, toType: HubSpotObjectType): Promise<string[]> {
    const ids: string[] = [];
    let after: string | undefined;
    do {
      const response = await this.http.send({
        method: 'POST',
        path: `/crm/associations/${this.version}/${fromType}/${toType}/batch/read`,
        body: { inputs: [after ? { id: fromId, after } : { id: fromId }] },
      });
      const result = parse(associationsBatchResult, response.body, 'associations read').results[0];
      ids.push(...(result?.to.map((t) => t.toObjectId) ?? []));
      after = result?.paging?.next?.after;
    } while (after);
    return ids;
  }

  async readProperty(objectType: HubSpotObjectType, name: string): Promise<z.infer<typeof propertyDefinition> | undefined> {
    const response = await this.http.send({
      method: 'GET',
      path: `/crm/properties/${this.version}/${objectType}/${encodeURIComponent(name)}`,
      tolerate: (status) => status === 404,
    });
    if (response.status === 404) return undefined;
    return parse(propertyDefinition, response.body, 'property read');
  }

  /** Creates a property; 'exists' when HubSpot answers 409 (a property with that name exists). */
  async createProperty(definition: PropertyDefinition, groupName: string): Promise<'created' | 'exists'> {
    const response = await this.http.send({
      method: 'POST',
      path: `/crm/properties/${this.version}/${definition.objectType}`,
      body: {
        name: definition.name,
        label: definition.label,
        type: definition.type,
        fieldType: definition.fieldType,
        groupName,
        description: definition.description,
        ...(definition.hasUniqueValue ? { hasUniqueValue: true } : {}),
        ...(definition.options ? { options: definition.options.map((o, i) => ({ ...o, displayOrder: i })) } : {}),
      },
      tolerate: (status) => status === 409,
    });
    return response.status === 409 ? 'exists' : 'created';
  }

  async createPropertyGroup(objectType: HubSpotObjectType, group: PropertyGroupDefinition): Promise<'created' | 'exists'> {
    const response = await this.http.send({
      method: 'POST',
      path: `/crm/properties/${this.version}/${objectType}/groups`,
      body: { name: group.name, label: group.label, displayOrder: -1 },
      tolerate: (status) => status === 409,
    });
    return response.status === 409 ? 'exists' : 'created';
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    // Where the answer did not fit, never the answer itself (it may hold personal data).
    const where = result.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'} ${i.code}`).join('; ');
    throw new CrmError('transient', `Unexpected HubSpot ${what} response: ${where}`, { crm: 'hubspot' });
  }
  return result.data;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
