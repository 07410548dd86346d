/**
 * The shipped field mapping of each CRM (config/crm/<kind>.json), validated once at first use.
 * Bundled into the functions (JSON imports), so a mapping change is a deploy.
 */
import hubspot from '../../config/crm/hubspot.json' with { type: 'json' };
import salesforce from '../../config/crm/salesforce.json' with { type: 'json' };
import webhook from '../../config/crm/webhook.json' with { type: 'json' };
import zoho from '../../config/crm/zoho.json' with { type: 'json' };
import type { CrmKind } from '../resources.ts';
import { buildFieldMapping, type FieldMapping } from './field-mapping.ts';

const RAW: Record<CrmKind, unknown> = { hubspot, salesforce, zoho, webhook };
const built = new Map<CrmKind, FieldMapping>();

export function fieldMapping(kind: CrmKind): FieldMapping {
  let mapping = built.get(kind);
  if (!mapping) {
    mapping = buildFieldMapping(kind, RAW[kind]);
    built.set(kind, mapping);
  }
  return mapping;
}
