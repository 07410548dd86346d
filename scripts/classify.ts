/**
 * npm run classify < messages.jsonl
 * Each input line: {"text": "...", "lang"?: "..."}; each output line: the classify() result.
 * A bad line gets {"line": n, "error": "..."} and the run goes on; exit code 1 if any failed.
 */
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { classify } from '#shared/domain/intelligence/classify';

const inputSchema = z.strictObject({ text: z.string().min(1, { message: 'text is empty' }), lang: z.string().optional() });

export type ClassifyLineResult = { ok: true; output: string } | { ok: false; output: string };

/** Classifies one input line (1-based number for errors); blank lines are skipped (null). */
export function classifyLine(line: string, lineNumber: number): ClassifyLineResult | null {
  if (line.trim() === '') return null;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return { ok: false, output: JSON.stringify({ line: lineNumber, error: `invalid JSON: ${(error as Error).message}` }) };
  }
  const parsed = inputSchema.safeParse(json);
  if (!parsed.success) {
    const problem = parsed.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join('; ');
    return { ok: false, output: JSON.stringify({ line: lineNumber, error: problem }) };
  }
  return { ok: true, output: JSON.stringify(classify(parsed.data.text, { lang: parsed.data.lang })) };
}

async function main(): Promise<void> {
  let failed = 0;
  let lineNumber = 0;
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    lineNumber++;
    const result = classifyLine(line, lineNumber);
    if (result === null) continue;
    if (!result.ok) failed++;
    process.stdout.write(`${result.output}\n`);
  }
  if (failed > 0) {
    console.error(`${failed} line(s) failed`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
