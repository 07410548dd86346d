/**
 * Polling with a deadline, for tests of asynchronous flows (queues, pollers, lagging search).
 * Never a fixed sleep: the probe is retried until it yields a truthy value or the deadline passes.
 */

export interface UntilOptions {
  /** Pause between two probes. Default 50 ms. */
  readonly intervalMs?: number;
  /** Named in the timeout error. */
  readonly what?: string;
}

/**
 * Resolves with the first truthy value `probe` returns. A probe that throws counts as "not yet"
 * (an assertion inside it can describe the awaited state); the last error or value is reported
 * when the deadline passes.
 */
export async function until<T>(
  probe: () => T | Promise<T>,
  timeoutMs = 15_000,
  options: UntilOptions = {},
): Promise<NonNullable<T>> {
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'} (last: ${detail})`, {
        cause: last,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves after `ms`; for modelling a duration (an outage), never for waiting on a result. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
