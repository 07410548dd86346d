/**
 * The shipped intelligence config (config/intelligence/*.json), imported so that a function
 * bundle carries it — Lambda has no repository to read files from. Validated and compiled once,
 * on first use; a wrong rule fails there with an error naming it. The folding table is the subset
 * the rules use (t2s-rules.json, `npm run fold-table`): the same classifications, 18 KB less.
 */
import catalogue from '../../../config/intelligence/catalogue.json' with { type: 'json' };
import rules from '../../../config/intelligence/rules.json' with { type: 'json' };
import sentiment from '../../../config/intelligence/sentiment.json' with { type: 'json' };
import t2s from '../../../config/intelligence/t2s-rules.json' with { type: 'json' };
import { buildIntelligence, type Intelligence } from './intelligence.ts';

let built: Intelligence | undefined;

export function shippedIntelligence(): Intelligence {
  built ??= buildIntelligence({ rules, sentiment, catalogue, t2s });
  return built;
}
