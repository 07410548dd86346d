/**
 * Client-side pacing to a CRM's request limit (SY-5, the burst row): at most `requests` requests
 * are started in any rolling `windowMs`, so the CRM never has to answer 429. The window is
 * widened by a small margin, since the CRM counts a request when it arrives and we when we send
 * it. When the CRM reports its daily budget above 80 % used (Salesforce `Sforce-Limit-Info`,
 * Zoho credits), the pace halves: the real-time sync keeps the rest of the day's budget.
 */
import type { CrmAdapter, CrmLimits } from './port.ts';

export interface PacerOptions {
  /** Added to the window (ms). Default 250. */
  readonly marginMs?: number;
  /** Share of the daily budget above which the pace halves. Default 0.8. */
  readonly slowAbove?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class Pacer {
  private readonly started: number[] = [];
  private readonly marginMs: number;
  private readonly slowAbove: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private queue: Promise<void> = Promise.resolve();
  /** Requests made, and how long they waited for their turn in all. */
  readonly stats = { requests: 0, waitedMs: 0, slowed: 0 };

  constructor(
    private readonly limits: Pick<CrmLimits, 'requests' | 'windowMs'>,
    private readonly crm?: Pick<CrmAdapter, 'usage'>,
    options: PacerOptions = {},
  ) {
    this.marginMs = options.marginMs ?? 250;
    this.slowAbove = options.slowAbove ?? 0.8;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The share of the CRM's daily budget used, when it reports one. */
  usage(): number | undefined {
    const u = this.crm?.usage?.();
    return u && u.max > 0 ? u.used / u.max : undefined;
  }

  /** Resolves when one more request may start; turns are handed out in call order. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.wait());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async wait(): Promise<void> {
    const begin = this.now();
    for (;;) {
      const slow = (this.usage() ?? 0) > this.slowAbove;
      const allowed = slow ? Math.max(1, Math.floor(this.limits.requests / 2)) : this.limits.requests;
      const window = this.limits.windowMs + this.marginMs;
      const at = this.now();
      while (this.started.length && this.started[0]! <= at - window) this.started.shift();
      if (this.started.length < allowed) {
        this.started.push(at);
        this.stats.requests++;
        this.stats.waitedMs += at - begin;
        if (slow) this.stats.slowed++;
        return;
      }
      await this.sleep(this.started[this.started.length - allowed]! + window - at + 1);
    }
  }
}

export type FetchFn = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** A fetch that waits for the pacer's turn before every request (every CRM call of one adapter). */
export function pacedFetch(pacer: () => Pacer, fetchImpl: FetchFn = (input, init) => fetch(input, init)): FetchFn {
  return async (input, init) => {
    await pacer().take();
    return fetchImpl(input, init);
  };
}
