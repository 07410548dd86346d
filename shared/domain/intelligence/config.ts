/**
 * The intelligence configuration: zod schemas for the files in config/intelligence and the
 * validation that turns a wrong value into an error naming it
 * (`rules.tags.complaint.zh-Hant[3]: empty phrase`). Pure: takes parsed JSON, returns typed data.
 */
import * as z from 'zod/mini';
import '../../zod.ts';

export const LANGUAGES = ['zh-Hant', 'zh-Hans', 'en', 'ru'] as const;
export type Language = (typeof LANGUAGES)[number];

export const MESSAGE_TAGS = [
  'price_inquiry',
  'complaint',
  'store_inquiry',
  'order_status',
  'purchase_intent',
  'human_request',
  'opt_out',
] as const;
export type MessageTag = (typeof MESSAGE_TAGS)[number];

export const INTENTS = [...MESSAGE_TAGS, 'product_question', 'greeting', 'other'] as const;
export type Intent = (typeof INTENTS)[number];

const phrase = z.string().check(
  z.refine((s) => s.replace('*', '').trim().length > 0, 'empty phrase'),
  z.refine((s) => !s.slice(0, -1).includes('*'), "'*' is allowed only at the end of a phrase (a stem)"),
);
const phraseList = z.array(phrase).check(z.minLength(1, 'needs at least one phrase'));
const perLanguage = z.strictObject({
  'zh-Hant': phraseList,
  'zh-Hans': phraseList,
  en: phraseList,
  ru: phraseList,
});
const identifier = z.string().check(z.regex(/^[a-z][a-z0-9_]*$/, 'must be snake_case'));
const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) => z.int().check(z.gte(min), z.lte(max));
const oneCharacter = z.string().check(z.length(1));

export const rulesSchema = z.strictObject({
  version: z.string().check(z.minLength(1)),
  tags: z.strictObject({
    price_inquiry: perLanguage,
    complaint: perLanguage,
    store_inquiry: perLanguage,
    order_status: perLanguage,
    purchase_intent: perLanguage,
    human_request: perLanguage,
    opt_out: perLanguage,
  }),
  tagOptions: z._default(z.partialRecord(z.enum(MESSAGE_TAGS), z.strictObject({ negatable: z.boolean() })), {}),
  intents: z.strictObject({
    precedence: z.array(z.enum(['product_question', 'greeting', ...MESSAGE_TAGS])).check(
      z.refine((list) => new Set(list).size === list.length, 'duplicate intent in precedence'),
      z.refine((list) => list.length === MESSAGE_TAGS.length + 2, 'must list every tag, product_question and greeting'),
    ),
    productQuestion: perLanguage,
    greeting: perLanguage,
  }),
  negation: z.strictObject({
    cues: perLanguage,
    neutralPhrases: perLanguage,
    maxUnitsBetween: wholeNumber(0, 10),
  }),
  quotes: z.array(z.tuple([oneCharacter, oneCharacter])),
  hotWords: z.record(identifier, z.strictObject({ family: z.optional(identifier), phrases: phraseList })),
  contactTags: z.array(z.strictObject({ tag: identifier, family: identifier, moreThan: wholeNumber(0) })),
});
export type RulesConfig = z.infer<typeof rulesSchema>;

const weight = z.number().check(z.refine((w) => w !== 0 && Math.abs(w) <= 3, 'weight must be non-zero, between -3 and 3'));
const lexicon = z.record(phrase, weight);
export const sentimentSchema = z.strictObject({
  version: z.string().check(z.minLength(1)),
  lexicon: z.strictObject({ 'zh-Hant': lexicon, 'zh-Hans': lexicon, en: lexicon, ru: lexicon }),
  emoji: z.record(z.string().check(z.minLength(1)), weight),
  negationFlips: z.boolean(),
});
export type SentimentConfig = z.infer<typeof sentimentSchema>;

export const catalogueSchema = z.strictObject({
  currency: z.string().check(z.regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code')),
  products: z
    .array(
      z.strictObject({
        sku: z.string().check(z.regex(/^[A-Z0-9]+(-[A-Z0-9]+)+$/, 'SKU must look like APL-IP15PM')),
        name: z.string().check(z.minLength(1)),
        price: z.optional(z.number().check(z.positive())),
        /** Days a unit usually lasts: a replenishment reminder is due this long after a purchase (AU-3). */
        replenishDays: z.optional(z.int().check(z.gte(1), z.lte(730))),
        aliases: z.array(phrase).check(z.minLength(1)),
      }),
    )
    .check(z.minLength(1)),
});
export type CatalogueConfig = z.infer<typeof catalogueSchema>;

export const chineseFoldingSchema = z.strictObject({
  source: z.string(),
  pairs: wholeNumber(0),
  map: z.string().check(z.refine((s) => Array.from(s).length % 2 === 0, 'must hold (traditional, simplified) pairs')),
});

export const crmDefaultsSchema = z.record(z.string().check(z.minLength(1)), z.union([z.string(), z.number(), z.boolean()]));
export type CrmDefaults = z.infer<typeof crmDefaultsSchema>;

/** The raw contents of config/intelligence, before validation. */
export interface RawIntelligenceConfig {
  rules: unknown;
  sentiment: unknown;
  catalogue: unknown;
  t2s: unknown;
}

export interface IntelligenceConfig {
  rules: RulesConfig;
  sentiment: SentimentConfig;
  catalogue: CatalogueConfig;
  t2s: string;
}

/** Thrown at load time; `problems` name each wrong setting by its path. */
export class IntelligenceConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid intelligence config:\n  ${problems.join('\n  ')}`);
    this.name = 'IntelligenceConfigError';
  }
}

/** `['tags','complaint','zh-Hant',3]` under `rules` → `rules.tags.complaint.zh-Hant[3]`. */
export function configPath(file: string, path: readonly PropertyKey[]): string {
  let out = file;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return out;
}

function check<T>(file: string, schema: z.ZodMiniType<T>, value: unknown, problems: string[]): T | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) problems.push(`${configPath(file, issue.path)}: ${issue.message}`);
  return undefined;
}

function checkCatalogue(catalogue: CatalogueConfig, problems: string[]): void {
  const seen = new Set<string>();
  catalogue.products.forEach((product, index) => {
    if (seen.has(product.sku)) problems.push(`catalogue.products[${index}].sku: duplicate SKU ${product.sku}`);
    seen.add(product.sku);
  });
}

function checkContactTags(rules: RulesConfig, problems: string[]): void {
  const families = new Set(Object.entries(rules.hotWords).map(([id, word]) => word.family ?? id));
  rules.contactTags.forEach((rule, index) => {
    if (!families.has(rule.family)) problems.push(`rules.contactTags[${index}].family: no hot word has family ${rule.family}`);
  });
}

/** Validates every file at once so one run reports every problem; throws IntelligenceConfigError. */
export function validateIntelligenceConfig(raw: RawIntelligenceConfig): IntelligenceConfig {
  const problems: string[] = [];
  const rules = check('rules', rulesSchema, raw.rules, problems);
  const sentiment = check('sentiment', sentimentSchema, raw.sentiment, problems);
  const catalogue = check('catalogue', catalogueSchema, raw.catalogue, problems);
  const t2s = check('t2s', chineseFoldingSchema, raw.t2s, problems);
  if (catalogue) checkCatalogue(catalogue, problems);
  if (rules) checkContactTags(rules, problems);
  if (!rules || !sentiment || !catalogue || !t2s || problems.length > 0) throw new IntelligenceConfigError(problems);
  return { rules, sentiment, catalogue, t2s: t2s.map };
}
