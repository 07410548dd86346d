/**
 * Field mapping as configuration (SY-8, ID-6). Each CRM has a JSON mapping in the repo,
 * `config/crm/<kind>.json`: our typed contact field (CrmContactFields, by path such as `segment`
 * or `address.locality`) → the CRM's field name, its type, whether it is on, and its default.
 *
 * Two kinds of field:
 * - computed by us (segment, scores, tags, hot words …): always written. A missing value gets the
 *   mapping's `default` (ID-6); with no default it is cleared (null) — the value is ours.
 * - learnt facts (`onlyKnown: true`: address, coupon, rating, agent): written only with a value,
 *   never null, so a field we do not know does not erase what sales typed in the CRM.
 *
 * A value the CRM field cannot take (an enum value not in `values`, a text longer than
 * `maxLength`, a number that is not finite) falls back to the default and is counted as failed:
 * the weekly mapping check (SY-9) reads these counts.
 */
import * as z from 'zod/mini';
import '../zod.ts';
import type { CrmContactFields } from './port.ts';

/** Our fields a mapping can name. */
export const MAPPABLE_FIELDS = [
  'segment',
  'tags',
  'activityScore',
  'sentiment',
  'priority',
  'hotWords',
  'frequentEmoji',
  'messageCount',
  'customerLevel',
  'lastInteractionAt',
  'satisfaction',
  'lastCoupon',
  'agentId',
  'language',
  'address.street',
  'address.locality',
  'address.region',
  'address.postalCode',
  'address.country',
  'opportunity.sku',
  'opportunity.productName',
  'opportunity.amount',
  'opportunity.at',
] as const;
export type MappableField = (typeof MAPPABLE_FIELDS)[number];

const FIELD_TYPES = ['text', 'number', 'datetime', 'list', 'counts', 'enum', 'boolean'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const FieldRuleSchema = z.object({
  /** The CRM's field name (API name). Required when the field is on. */
  field: z.optional(z.string().check(z.minLength(1))),
  /** Off: never written (e.g. a field this account does not need). Default on. */
  enabled: z.optional(z.boolean()),
  type: z.optional(z.enum(FIELD_TYPES)),
  /** Written when we have no value (ID-6); without one the field is cleared (null). */
  default: z.optional(scalar),
  /** Written only with a value, never cleared (facts sales may also type). */
  onlyKnown: z.optional(z.boolean()),
  /** Allowed values of an `enum` (a picklist). */
  values: z.optional(z.array(z.string())),
  /** Longest text the field takes. */
  maxLength: z.optional(z.number().check(z.int(), z.positive())),
  /** Separator of `list` and `counts` values. Default `;`. */
  separator: z.optional(z.string()),
  /** Most entries a `list` or `counts` value carries. Default 20. */
  maxItems: z.optional(z.number().check(z.int(), z.positive())),
});
export type FieldRule = z.infer<typeof FieldRuleSchema>;

const MappingSchema = z.object({
  $comment: z.optional(z.string()),
  contact: z.record(z.string(), FieldRuleSchema),
});

export interface ResolvedRule {
  readonly path: MappableField;
  readonly field: string;
  readonly type: FieldType;
  readonly default: string | number | boolean | null | undefined;
  readonly onlyKnown: boolean;
  readonly values?: ReadonlySet<string> | undefined;
  readonly maxLength?: number | undefined;
  readonly separator: string;
  readonly maxItems: number;
}

export interface FieldMapping {
  readonly kind: string;
  /** The enabled rules, in the order of the file. */
  readonly rules: readonly ResolvedRule[];
  /** Paths switched off in the file. */
  readonly disabled: readonly MappableField[];
}

/** The natural type of each of our fields (a mapping may only narrow text to enum or list). */
const NATURAL_TYPE: Record<MappableField, FieldType> = {
  segment: 'text',
  tags: 'list',
  activityScore: 'number',
  sentiment: 'number',
  priority: 'number',
  hotWords: 'counts',
  frequentEmoji: 'list',
  messageCount: 'number',
  customerLevel: 'text',
  lastInteractionAt: 'datetime',
  satisfaction: 'number',
  lastCoupon: 'text',
  agentId: 'text',
  language: 'text',
  'address.street': 'text',
  'address.locality': 'text',
  'address.region': 'text',
  'address.postalCode': 'text',
  'address.country': 'text',
  'opportunity.sku': 'text',
  'opportunity.productName': 'text',
  'opportunity.amount': 'number',
  'opportunity.at': 'datetime',
};

const COMPATIBLE: Record<FieldType, readonly FieldType[]> = {
  text: ['text', 'enum'],
  list: ['list', 'text'],
  counts: ['counts', 'text'],
  number: ['number', 'text'],
  datetime: ['datetime', 'text'],
  enum: ['enum'],
  boolean: ['boolean'],
};

/** Validates a mapping file; a wrong path, type or missing field name is named. */
export function buildFieldMapping(kind: string, raw: unknown): FieldMapping {
  const parsed = MappingSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid CRM field mapping config/crm/${kind}.json: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'not a mapping'}`);
  }
  const rules: ResolvedRule[] = [];
  const disabled: MappableField[] = [];
  const fieldsSeen = new Map<string, string>();
  for (const [path, rule] of Object.entries(parsed.data.contact)) {
    const bad = (why: string) => new Error(`Invalid CRM field mapping config/crm/${kind}.json: contact.${path}: ${why}`);
    if (!(MAPPABLE_FIELDS as readonly string[]).includes(path)) throw bad(`not a field we have (one of ${MAPPABLE_FIELDS.join(', ')})`);
    const mappable = path as MappableField;
    if (rule.enabled === false) {
      disabled.push(mappable);
      continue;
    }
    if (!rule.field) throw bad('"field" (the CRM field name) is required when the field is on');
    const natural = NATURAL_TYPE[mappable];
    const type = rule.type ?? natural;
    if (!COMPATIBLE[natural].includes(type)) throw bad(`type ${type} cannot carry our ${natural} value`);
    if (type === 'enum' && !rule.values?.length) throw bad('an enum needs its "values"');
    const other = fieldsSeen.get(rule.field);
    if (other) throw bad(`CRM field ${rule.field} is already mapped from ${other}`);
    fieldsSeen.set(rule.field, path);
    rules.push({
      path: mappable,
      field: rule.field,
      type,
      default: rule.default,
      onlyKnown: rule.onlyKnown ?? false,
      values: rule.values ? new Set(rule.values) : undefined,
      maxLength: rule.maxLength,
      separator: rule.separator ?? ';',
      maxItems: rule.maxItems ?? 20,
    });
  }
  return { kind, rules, disabled };
}

export type MappedValue = string | number | boolean | null;

export interface MappedFields {
  /** CRM field name → value. A `datetime` value is epoch ms: the adapter writes it in its format. */
  readonly values: Readonly<Record<string, MappedValue>>;
  /** CRM fields of type datetime (their numbers are ms). */
  readonly datetimeFields: ReadonlySet<string>;
  /** Our fields that had no value and got their default (ID-6). */
  readonly defaulted: readonly MappableField[];
  /** Our fields whose value the CRM field cannot take (written as the default, or left out). */
  readonly failed: readonly { readonly path: MappableField; readonly reason: string }[];
}

function valueAt(fields: CrmContactFields, path: MappableField): unknown {
  const [head, tail] = path.split('.') as [string, string | undefined];
  const top = (fields as unknown as Record<string, unknown>)[head];
  if (tail === undefined) return top;
  return top && typeof top === 'object' ? (top as Record<string, unknown>)[tail] : undefined;
}

/** Hot words as `discount:4;refund:1`, most frequent first. */
export function countsText(counters: Readonly<Record<string, number>>, separator = ';', maxItems = 20): string {
  return Object.entries(counters)
    .filter(([, count]) => count > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, maxItems)
    .map(([word, count]) => `${word}:${count}`)
    .join(separator);
}

/** `{ value }` when the rule's type takes it; `{ missing }` for no value; `{ reason }` when it cannot. */
function convert(rule: ResolvedRule, raw: unknown): { value: MappedValue } | { missing: true } | { reason: string } {
  if (raw === undefined || raw === null || raw === '') return { missing: true };
  switch (rule.type) {
    case 'number':
    case 'datetime':
      return typeof raw === 'number' && Number.isFinite(raw) ? { value: raw } : { reason: `not a finite number: ${String(raw)}` };
    case 'boolean':
      return typeof raw === 'boolean' ? { value: raw } : { reason: 'not a boolean' };
    case 'list': {
      if (!Array.isArray(raw)) return { reason: 'not a list' };
      const items = (raw as unknown[]).map(String).filter((item) => item !== '');
      return items.length === 0 ? { missing: true } : text(rule, items.slice(0, rule.maxItems).join(rule.separator));
    }
    case 'counts': {
      if (typeof raw !== 'object') return { reason: 'not counts' };
      const joined = countsText(raw as Record<string, number>, rule.separator, rule.maxItems);
      return joined === '' ? { missing: true } : text(rule, joined);
    }
    case 'enum': {
      const value = String(raw);
      return rule.values?.has(value) ? { value } : { reason: `${value} is not one of the field's values` };
    }
    case 'text': {
      if (Array.isArray(raw)) return text(rule, (raw as unknown[]).map(String).join(rule.separator));
      if (typeof raw === 'object') return text(rule, countsText(raw as Record<string, number>, rule.separator, rule.maxItems));
      if (typeof raw === 'number' && NATURAL_TYPE[rule.path] === 'datetime') return text(rule, new Date(raw).toISOString());
      return text(rule, String(raw).trim());
    }
  }
}

/** A list or counts text cut at its last whole entry to fit; another text longer than the field fails. */
function text(rule: ResolvedRule, value: string): { value: string } | { reason: string } {
  if (rule.maxLength === undefined || value.length <= rule.maxLength) return { value };
  if (rule.type === 'list' || rule.type === 'counts') {
    const cut = value.slice(0, rule.maxLength + 1);
    const end = cut.lastIndexOf(rule.separator);
    if (end > 0) return { value: cut.slice(0, end) };
  }
  return { reason: `longer than the field's ${rule.maxLength} characters` };
}

/** Our typed fields → the CRM's field values, by the mapping. */
export function mapContactFields(fields: CrmContactFields, mapping: FieldMapping): MappedFields {
  const values: Record<string, MappedValue> = {};
  const datetimeFields = new Set<string>();
  const defaulted: MappableField[] = [];
  const failed: { path: MappableField; reason: string }[] = [];
  for (const rule of mapping.rules) {
    if (rule.type === 'datetime') datetimeFields.add(rule.field);
    const outcome = convert(rule, valueAt(fields, rule.path));
    if ('value' in outcome) {
      values[rule.field] = outcome.value;
      continue;
    }
    if ('reason' in outcome) failed.push({ path: rule.path, reason: outcome.reason });
    else if (rule.default !== undefined) defaulted.push(rule.path);
    if (rule.default !== undefined) values[rule.field] = rule.default;
    else if (!rule.onlyKnown && 'missing' in outcome) values[rule.field] = null;
  }
  return { values, datetimeFields, defaulted, failed };
}

/** The CRM field our field is written to, or undefined when it is off or not mapped. */
export function crmField(mapping: FieldMapping, path: MappableField): string | undefined {
  return mapping.rules.find((rule) => rule.path === path)?.field;
}
