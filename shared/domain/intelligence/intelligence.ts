/**
 * The compiled intelligence: validated config, the rule automaton, the catalogue index and the
 * lookup tables classify() needs. Built once (bundled.ts, or shared/intelligence-files.ts from disk); everything after is pure.
 */
import type { IntelligenceConfig, Language, MessageTag, RawIntelligenceConfig } from './config.ts';
import { IntelligenceConfigError, LANGUAGES, MESSAGE_TAGS, validateIntelligenceConfig } from './config.ts';
import type { CatalogueIndex } from './catalogue.ts';
import { buildCatalogueIndex } from './catalogue.ts';
import type { HitKind, RuleMatcher, RulePhrase } from './matcher.ts';
import { compileRuleMatcher } from './matcher.ts';
import type { ChineseFolding } from './normalise.ts';
import { parseChineseFolding } from './normalise.ts';
import type { ContactTagRule } from './tags.ts';

export interface Intelligence {
  readonly config: IntelligenceConfig;
  readonly folding: ChineseFolding;
  readonly rules: RuleMatcher;
  readonly catalogue: CatalogueIndex;
  /** Tags that a negation cue can cancel. */
  readonly negatableTags: ReadonlySet<string>;
  /** Intent precedence, highest first. */
  readonly precedence: readonly string[];
  readonly quotes: readonly (readonly [string, string])[];
  readonly maxUnitsBetween: number;
  readonly hotWordFamily: ReadonlyMap<string, string>;
  readonly contactTagRules: readonly ContactTagRule[];
}

type PerLanguage = Record<Language, readonly string[]>;

function perLanguagePhrases(kind: HitKind, key: string, lists: PerLanguage, source: string): RulePhrase[] {
  const out: RulePhrase[] = [];
  for (const lang of LANGUAGES) {
    lists[lang].forEach((phrase, i) => out.push({ kind, key, weight: 0, phrase, source: `${source}.${lang}[${i}]` }));
  }
  return out;
}

/** Every phrase of the config as one flat list for the automaton. */
export function rulePhrases(config: IntelligenceConfig): RulePhrase[] {
  const { rules, sentiment } = config;
  const phrases: RulePhrase[] = [];
  for (const tag of MESSAGE_TAGS) phrases.push(...perLanguagePhrases('tag', tag, rules.tags[tag], `rules.tags.${tag}`));
  phrases.push(...perLanguagePhrases('product_question', '', rules.intents.productQuestion, 'rules.intents.productQuestion'));
  phrases.push(...perLanguagePhrases('greeting', '', rules.intents.greeting, 'rules.intents.greeting'));
  phrases.push(...perLanguagePhrases('negation', '', rules.negation.cues, 'rules.negation.cues'));
  phrases.push(...perLanguagePhrases('neutral', '', rules.negation.neutralPhrases, 'rules.negation.neutralPhrases'));
  for (const [id, word] of Object.entries(rules.hotWords)) {
    word.phrases.forEach((phrase, i) => phrases.push({ kind: 'hot', key: id, weight: 0, phrase, source: `rules.hotWords.${id}.phrases[${i}]` }));
  }
  for (const lang of LANGUAGES) {
    for (const [phrase, weight] of Object.entries(sentiment.lexicon[lang])) {
      phrases.push({ kind: 'sentiment', key: '', weight, phrase, source: `sentiment.lexicon.${lang}.${phrase}` });
    }
  }
  for (const [emoji, weight] of Object.entries(sentiment.emoji)) {
    phrases.push({ kind: 'sentiment', key: '', weight, phrase: emoji, source: `sentiment.emoji.${emoji}` });
  }
  return phrases;
}

/** Validates the raw config and compiles it; throws IntelligenceConfigError naming every problem. */
export function buildIntelligence(raw: RawIntelligenceConfig): Intelligence {
  const config = validateIntelligenceConfig(raw);
  const folding = parseChineseFolding(config.t2s);
  const compiledRules = compileRuleMatcher(rulePhrases(config), folding);
  const compiledCatalogue = buildCatalogueIndex(config.catalogue, folding);
  const problems = [...compiledRules.problems, ...compiledCatalogue.problems];
  if (problems.length > 0) throw new IntelligenceConfigError(problems);
  const negatableTags = new Set<string>(
    MESSAGE_TAGS.filter((tag: MessageTag) => config.rules.tagOptions[tag]?.negatable ?? true),
  );
  const hotWordFamily = new Map(Object.entries(config.rules.hotWords).map(([id, word]) => [id, word.family ?? id]));
  return {
    config,
    folding,
    rules: compiledRules.matcher,
    catalogue: compiledCatalogue.index,
    negatableTags,
    precedence: config.rules.intents.precedence,
    quotes: config.rules.quotes,
    maxUnitsBetween: config.rules.negation.maxUnitsBetween,
    hotWordFamily,
    contactTagRules: config.rules.contactTags,
  };
}
