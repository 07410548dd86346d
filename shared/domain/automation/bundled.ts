/** The shipped automation rules and roster (config/automation.json, config/agents.json), built once. */
import automation from '../../../config/automation.json' with { type: 'json' };
import agents from '../../../config/agents.json' with { type: 'json' };
import { shippedIntelligence } from '../intelligence/bundled.ts';
import { buildAutomation, type Automation } from './config.ts';

let built: Automation | undefined;

export function shippedAutomation(): Automation {
  if (!built) {
    const intelligence = shippedIntelligence();
    built = buildAutomation({ automation, agents }, { folding: intelligence.folding, products: intelligence.config.catalogue.products });
  }
  return built;
}
