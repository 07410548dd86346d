/**
 * The automation rules as configuration (config/automation.json, config/agents.json): validated
 * with zod once at start; a bad rule fails naming its path (`rules.offer-high-intent.coupon.prefix:
 * …`). Texts come in every supported language; templates name their parameters as expressions
 * over the variables a send is personalised with (`{first_name}`, `{coupon_code}` …).
 */
import * as z from 'zod/mini';
import '../../zod.ts';
import { compileRuleMatcher, type RuleMatcher, type RulePhrase } from '../intelligence/matcher.ts';
import type { ChineseFolding } from '../intelligence/normalise.ts';
import { LANGUAGES, type Language } from '../intelligence/config.ts';
import { scriptHints, type ScriptHints } from './language.ts';

export { LANGUAGES, type Language };

/** Every rule id (the `rule` of each automated message; fixed interface). */
export const RULE_IDS = [
  'quick-reply', 'order-status', 'logistics-update', 'offer-high-intent', 'offer-instalments', 'offer-store-visit',
  'offer-win-back', 'replenishment', 'follow-up', 'sample-link', 'handover', 'satisfaction',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

const nonEmpty = z.string().check(z.minLength(1));
const texts = z.strictObject({ en: nonEmpty, 'zh-Hant': nonEmpty, 'zh-Hans': nonEmpty, ru: nonEmpty });
const phraseLists = z.partialRecord(z.enum(LANGUAGES), z.array(nonEmpty).check(z.minLength(1)));
const identifier = z.string().check(z.regex(/^[a-z][a-z0-9_]*$/, 'must be snake_case'));
const template = z.strictObject({
  name: z.string().check(z.regex(/^[a-z0-9_]{1,512}$/, 'a template name: lowercase letters, digits and underscores')),
  parameters: z._default(z.record(identifier, nonEmpty), {}),
});
const coupon = z.strictObject({
  prefix: z.string().check(z.regex(/^[A-Z0-9]{2,12}$/, 'upper-case letters and digits, 2–12')),
  value: nonEmpty,
  validDays: z.int().check(z.gte(1), z.lte(365)),
});
const enabled = z._default(z.boolean(), true);
const clock = z.string().check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time like 09:30'));

const topic = z.strictObject({
  when: z.strictObject({
    phrases: z.optional(phraseLists),
    /** All of these message tags and any of these hot words (e.g. price_inquiry + shipping). */
    tagsWithHotWords: z.optional(z.strictObject({ tags: z.array(identifier).check(z.minLength(1)), hotWords: z.array(identifier).check(z.minLength(1)) })),
    /** A shared location matches too (the nearest store). */
    location: z.optional(z.boolean()),
  }),
  answer: texts,
  askLocation: z.optional(texts),
});

export const automationConfigSchema = z.strictObject({
  version: nonEmpty,
  /** The business's time zone: dates and hours in messages, support hours, ISO weeks of once-a-week keys. */
  timeZone: nonEmpty,
  /** The settle before a time-window rule re-checks its condition (the article's 5 s). */
  settleSeconds: z.int().check(z.gte(0), z.lte(300)),
  /** The language of a Chinese message that does not show its script (characters both share), for a customer of unknown language. */
  chineseDefault: z.enum(['zh-Hant', 'zh-Hans']),
  /** Our language → the template language code at Meta. */
  templateLanguages: z.strictObject({ en: nonEmpty, 'zh-Hant': nonEmpty, 'zh-Hans': nonEmpty, ru: nonEmpty }),
  supportHours: z.strictObject({
    /** ISO weekdays, 1 = Monday … 7 = Sunday. */
    days: z.array(z.int().check(z.gte(1), z.lte(7))).check(z.minLength(1)),
    from: clock,
    to: clock,
    answerWithinMinutes: z.int().check(z.gte(1), z.lte(1440)),
  }),
  rules: z.strictObject({
    'quick-reply': z.strictObject({ enabled, topics: z.record(identifier, topic) }),
    'order-status': z.strictObject({ enabled, notFound: texts, noTracking: texts, unavailable: texts }),
    'logistics-update': z.strictObject({ enabled, states: z.array(nonEmpty).check(z.minLength(1)), template }),
    'offer-high-intent': z.strictObject({ enabled, coupon, text: texts, template }),
    'offer-instalments': z.strictObject({ enabled, hotWords: z.array(identifier).check(z.minLength(1)), text: texts }),
    'offer-store-visit': z.strictObject({ enabled, afterDays: z.int().check(z.gte(1), z.lte(90)), coupon, template }),
    'offer-win-back': z.strictObject({
      enabled,
      fromPerWeek: z.int().check(z.gte(2)),
      toPerWeek: z.int().check(z.gte(0)),
      sentimentBelow: z.number().check(z.gt(0), z.lt(1)),
      coupon,
      text: texts,
      template,
    }),
    replenishment: z.strictObject({ enabled, template }),
    'follow-up': z.strictObject({ enabled, segment: identifier, dueInDays: z.int().check(z.gte(0), z.lte(30)), subject: nonEmpty, body: nonEmpty }),
    'sample-link': z.strictObject({
      enabled,
      afterHours: z.number().check(z.gt(0), z.lte(720)),
      intents: z.array(identifier).check(z.minLength(1)),
      link: z.url({ protocol: /^https$/ }),
      template,
    }),
    handover: z.strictObject({ enabled, text: texts, whenOpen: texts, whenClosed: texts, noAgent: texts }),
    satisfaction: z.strictObject({
      enabled,
      body: texts,
      button: texts,
      labels: z.strictObject(Object.fromEntries(LANGUAGES.map((l) => [l, z.array(z.string().check(z.minLength(1), z.maxLength(24))).check(z.length(5))])) as Record<Language, z.ZodMiniArray<z.ZodMiniString>>),
      thanks: texts,
    }),
  }),
});
export type AutomationConfig = z.infer<typeof automationConfigSchema>;
export type Texts = z.infer<typeof texts>;
export type TemplateRef = z.infer<typeof template>;
export type CouponRule = z.infer<typeof coupon>;

export const AGENT_ROLES = ['agent', 'supervisor'] as const;
export const rosterSchema = z.strictObject({
  agents: z.array(
    z.strictObject({
      id: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _')),
      name: nonEmpty,
      languages: z.array(z.enum(LANGUAGES)).check(z.minLength(1)),
      role: z.enum(AGENT_ROLES),
      available: z._default(z.boolean(), true),
      /** The agent's user in each CRM (`{"hubspot": "123", "salesforce": "005…"}`): a reply written there is sent as this agent (SY-3). */
      crmUsers: z.optional(z.record(z.string().check(z.regex(/^[a-z]+$/)), z.string().check(z.minLength(1), z.maxLength(64)))),
    }),
  ),
});
export type Roster = z.infer<typeof rosterSchema>;
export type Agent = Roster['agents'][number];

/** The variables the automation fills in (functions/automation/app.ts, render.ts). */
export const VARIABLES: ReadonlySet<string> = new Set([
  'first_name', 'product_name', 'last_purchase', 'store_name', 'store_address', 'store_hours', 'store_list', 'distance',
  'coupon_code', 'coupon_value', 'coupon_expires', 'order_name', 'tracking_number', 'tracking_url', 'parcel_status', 'parcel_eta',
  'sku', 'sample_link', 'agent_name', 'when', 'minutes', 'opens', 'display_name', 'segment', 'last_message',
]);

export class AutomationConfigError extends Error {
  override readonly name = 'AutomationConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`automation config is invalid:\n  ${problems.join('\n  ')}`);
  }
}

/** The rules ready to run: validated config, the roster, and the quick-reply phrases compiled. */
export interface Automation {
  readonly config: AutomationConfig;
  readonly roster: Roster;
  /** Finds quick-reply topics in a normalised text (key: the topic). */
  readonly topics: RuleMatcher;
  readonly folding: ChineseFolding;
  /** What tells traditional from simplified Chinese (language.ts). */
  readonly scripts: ScriptHints;
  /** The catalogue's products by SKU (names, replenishment intervals). */
  readonly catalogue: ReadonlyMap<string, { readonly name: string; readonly replenishDays?: number | undefined }>;
}

function issues(file: string, error: z.core.$ZodError): string[] {
  return error.issues.map((i) => `${file}: ${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
}

/** Validates both files and compiles the phrases; throws AutomationConfigError naming every problem. */
export function buildAutomation(
  raw: { automation: unknown; agents: unknown },
  intelligence: {
    readonly folding: ChineseFolding;
    readonly products: readonly { sku: string; name: string; replenishDays?: number | undefined }[];
    /** The intelligence rules' phrases per script (more evidence of which characters are simplified-only). */
    readonly phrases?: { readonly simplified: readonly string[]; readonly traditional: readonly string[] };
  },
): Automation {
  const { folding } = intelligence;
  const problems: string[] = [];
  const config = automationConfigSchema.safeParse(raw.automation);
  if (!config.success) problems.push(...issues('automation.json', config.error));
  const roster = rosterSchema.safeParse(raw.agents);
  if (!roster.success) problems.push(...issues('agents.json', roster.error));
  if (!config.success || !roster.success) throw new AutomationConfigError(problems);

  const c = config.data;
  try {
    new Intl.DateTimeFormat('en', { timeZone: c.timeZone });
  } catch {
    problems.push(`automation.json: timeZone: "${c.timeZone}" is not an IANA time zone`);
  }
  const ids = new Set<string>();
  roster.data.agents.forEach((agent, i) => {
    if (ids.has(agent.id)) problems.push(`agents.json: agents.${i}.id: duplicate agent id ${agent.id}`);
    ids.add(agent.id);
  });
  if (c.supportHours.from >= c.supportHours.to) problems.push(`automation.json: supportHours: from (${c.supportHours.from}) must be before to (${c.supportHours.to})`);
  const winBack = c.rules['offer-win-back'];
  if (winBack.toPerWeek >= winBack.fromPerWeek) problems.push('automation.json: rules.offer-win-back: toPerWeek must be below fromPerWeek (interactions fall)');
  // Every {placeholder} must be one the automation fills in.
  const visit = (value: unknown, path: string) => {
    if (typeof value === 'string') {
      for (const [, name] of value.matchAll(/\{([a-z_]+)\}/gu)) if (!VARIABLES.has(name!)) problems.push(`automation.json: ${path}: {${name}} is not a variable (${[...VARIABLES].join(', ')})`);
    } else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, path ? `${path}.${k}` : k);
  };
  visit(c.rules, 'rules');
  const phrases: RulePhrase[] = [];
  for (const [name, t] of Object.entries(c.rules['quick-reply'].topics)) {
    if (!t.when.phrases && !t.when.tagsWithHotWords && !t.when.location) problems.push(`automation.json: rules.quick-reply.topics.${name}.when: names no phrases, tags or location`);
    for (const [lang, list] of Object.entries(t.when.phrases ?? {})) {
      list.forEach((phrase, i) => phrases.push({ kind: 'tag', key: name, weight: 0, phrase, source: `automation.json: rules.quick-reply.topics.${name}.when.phrases.${lang}.${i}` }));
    }
  }
  const compiled = compileRuleMatcher(phrases, folding);
  problems.push(...compiled.problems);
  if (problems.length) throw new AutomationConfigError(problems);
  const texts = { simplified: [...textsOf(c, 'zh-Hans'), ...(intelligence.phrases?.simplified ?? [])], traditional: [...textsOf(c, 'zh-Hant'), ...(intelligence.phrases?.traditional ?? [])] };
  return { config: c, roster: roster.data, topics: compiled.matcher, folding, scripts: scriptHints(folding, texts), catalogue: new Map(intelligence.products.map((p) => [p.sku, p])) };
}

/** Every text and phrase of the rules in one language. */
function textsOf(config: AutomationConfig, language: Language): string[] {
  const out: string[] = [];
  const visit = (value: unknown, inLanguage: boolean) => {
    if (typeof value === 'string') {
      if (inLanguage) out.push(value);
    } else if (Array.isArray(value)) for (const v of value) visit(v, inLanguage);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, inLanguage || k === language);
  };
  visit(config.rules, false);
  return out;
}
