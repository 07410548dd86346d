/**
 * The structured logger, created once per process and imported everywhere (OP-4).
 * Logs carry ids and masked phones only: never a phone in clear, never message text.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: process.env['POWERTOOLS_SERVICE_NAME'] ?? 'scrm' });

/** A short description of an error for logs and stored records (no stack, no payload). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
