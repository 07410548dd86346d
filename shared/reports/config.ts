/**
 * What the reports need to know that no event says (config/reports.json): the currency revenue is
 * reported in, the promotions (RP-3's "discount below 8 % during a promotion"), the baseline period
 * of the before/after section (RP-9: the time before the SCRM, when the business has its figures),
 * and the spend of WhatsApp beyond Meta and AWS and of the other channels (RP-5, RP-11).
 * Validated once; a wrong entry fails naming it.
 */
import * as z from 'zod/mini';
import '../zod.ts';
import raw from '../../config/reports.json' with { type: 'json' };
import { parseDay } from './time.ts';

const day = z.string().check(
  z.refine((value) => {
    try {
      parseDay(value);
      return true;
    } catch {
      return false;
    }
  }, 'a date YYYY-MM-DD'),
);
const range = z.object({ from: day, to: day }).check(z.refine((r) => r.from <= r.to, 'from must not be after to'));
const usd = z.number().check(z.gte(0));

const ReportsConfigSchema = z.strictObject({
  currency: z.string().check(z.regex(/^[A-Z]{3}$/, 'an ISO currency code (e.g. HKD)')),
  promotions: z.array(z.strictObject({ name: z.string().check(z.minLength(1)), from: day, to: day })),
  baseline: z.nullable(range),
  whatsappSpendUsdPerMonth: usd,
  channels: z.array(z.strictObject({ channel: z.string().check(z.minLength(1)), spendUsdPerMonth: usd, customersPerMonth: usd, source: z.optional(z.string()) })),
});

export type ReportsConfig = z.infer<typeof ReportsConfigSchema>;

export function loadReportsConfig(value: unknown = raw): ReportsConfig {
  const parsed = ReportsConfigSchema.safeParse(value);
  if (!parsed.success) throw new Error(`Invalid config/reports.json: ${parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

let shipped: ReportsConfig | undefined;
export function shippedReportsConfig(): ReportsConfig {
  return (shipped ??= loadReportsConfig());
}
