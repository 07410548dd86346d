import { loadIntelligence } from '#shared/intelligence-files';
import type { Classification } from '#shared/domain/intelligence/classify';
import { classifyWith } from '#shared/domain/intelligence/classify';

export const intelligence = loadIntelligence();
export const run = (text: string): Classification => classifyWith(intelligence, text);
export const DAY = 86_400_000;
export const NOW = Date.UTC(2025, 5, 15, 12, 0, 0);
