/** The customer-intelligence core: pure functions over plain data (loader.ts is the one I/O edge). */
export * from './config.ts';
export * from './normalise.ts';
export type { Hit, HitKind, RuleMatcher, RulePhrase } from './matcher.ts';
export { compileRuleMatcher } from './matcher.ts';
export * from './intelligence.ts';
export * from './loader.ts';
export * from './tags.ts';
export * from './sentiment.ts';
export * from './segments.ts';
export * from './scores.ts';
export * from './catalogue.ts';
export * from './duplicates.ts';
export * from './conflicts.ts';
export * from './classify.ts';
export * from './evaluation.ts';
