/** The shipped automation rules, roster and store directory (config/automation.json, agents.json, stores.json), built once. */
import automation from '../../../config/automation.json' with { type: 'json' };
import agents from '../../../config/agents.json' with { type: 'json' };
import storesFile from '../../../config/stores.json' with { type: 'json' };
import { shippedIntelligence } from '../intelligence/bundled.ts';
import { loadStores, type Store } from '../stores.ts';
import { buildAutomation, type Automation } from './config.ts';

let built: Automation | undefined;
let stores: readonly Store[] | undefined;

export function shippedAutomation(): Automation {
  if (!built) {
    const intelligence = shippedIntelligence();
    const { rules, sentiment } = intelligence.config;
    const phrasesOf = (language: 'zh-Hant' | 'zh-Hans') => [
      ...Object.values(rules.tags).flatMap((t) => t[language]),
      ...rules.intents.productQuestion[language],
      ...rules.intents.greeting[language],
      ...rules.negation.cues[language],
      ...rules.negation.neutralPhrases[language],
      ...Object.keys(sentiment.lexicon[language]),
    ];
    built = buildAutomation(
      { automation, agents },
      { folding: intelligence.folding, products: intelligence.config.catalogue.products, phrases: { simplified: phrasesOf('zh-Hans'), traditional: phrasesOf('zh-Hant') } },
    );
  }
  return built;
}

/** The store directory, its SKUs checked against the catalogue. */
export function shippedStores(): readonly Store[] {
  stores ??= loadStores(storesFile, { skus: shippedAutomation().catalogue.keys() });
  return stores;
}

/** The rules in another time zone (SCRM_TIME_ZONE): support hours, dates and once-a-week keys all follow it. */
export function inTimeZone(rules: Automation, timeZone: string | undefined): Automation {
  return timeZone && timeZone !== rules.config.timeZone ? { ...rules, config: { ...rules.config, timeZone } } : rules;
}
