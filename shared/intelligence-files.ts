/**
 * Reads the intelligence config files (config/intelligence/*.json) from disk, for the CLIs,
 * the evaluation and the tests — the functions carry the same files bundled
 * (domain/intelligence/bundled.ts). Keeps the compiled Intelligence per directory. The domain
 * itself never touches the file system (architecture invariant 4).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawIntelligenceConfig } from './domain/intelligence/config.ts';
import { IntelligenceConfigError } from './domain/intelligence/config.ts';
import type { Intelligence } from './domain/intelligence/intelligence.ts';
import { buildIntelligence } from './domain/intelligence/intelligence.ts';

export const DEFAULT_CONFIG_DIR = fileURLToPath(new URL('../config/intelligence/', import.meta.url));

const FILES = { rules: 'rules.json', sentiment: 'sentiment.json', catalogue: 'catalogue.json', t2s: 't2s.json' } as const;

function readJson(dir: string, file: string): unknown {
  const path = join(dir, file);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    throw new IntelligenceConfigError([`${file}: ${(error as Error).message}`]);
  }
}

export function readIntelligenceConfig(configDir: string = DEFAULT_CONFIG_DIR): RawIntelligenceConfig {
  return {
    rules: readJson(configDir, FILES.rules),
    sentiment: readJson(configDir, FILES.sentiment),
    catalogue: readJson(configDir, FILES.catalogue),
    t2s: readJson(configDir, FILES.t2s),
  };
}

const cache = new Map<string, Intelligence>();

/** Loads, validates and compiles once per directory; later calls return the same object. */
export function loadIntelligence(configDir: string = DEFAULT_CONFIG_DIR): Intelligence {
  const cached = cache.get(configDir);
  if (cached) return cached;
  const intelligence = buildIntelligence(readIntelligenceConfig(configDir));
  cache.set(configDir, intelligence);
  return intelligence;
}

/** Reads config/intelligence/crm-defaults.json (ID-6 defaults for missing mapped CRM fields). */
export function loadCrmDefaults(configDir: string = DEFAULT_CONFIG_DIR): unknown {
  return readJson(configDir, 'crm-defaults.json');
}
