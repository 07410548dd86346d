/**
 * Client-side pacing to a CRM's request limit (SY-5, the burst row): at most `requests` requests
 * are under way or answered in any rolling `windowMs`, so the CRM never has to answer 429: a
 * request counts from its start until a window after its answer (see the slots below), and the
 * window is widened by a small margin. When the CRM reports its daily budget above 80 % used (Salesforce `Sforce-Limit-Info`,
 * Zoho credits), the pace halves: the real-time sync keeps the rest of the day's budget.
 */
import type { CrmAdapter, CrmLimits } from './port.ts';

export interface PacerOptions {
  /** Added to the window (ms): clocks and counting differ a little. Default 2 % of the window, at most 100 ms. */
  readonly marginMs?: number;
  /** Share of the daily budget above which the pace halves. Default 0.8. */
  readonly slowAbove?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class Pacer {
  /**
   * The requests of the current window: when each was answered (its latest possible arrival at
   * the CRM), Infinity while it is under way. A request n + limit starts only once request n's
   * answer is a window old: then it cannot arrive within the same window at the CRM, however the
   * sending was delayed on our side (a busy event loop, a slow connection).
   */
  private readonly slots: { at: number }[] = [];
  private readonly marginMs: number;
  private readonly slowAbove: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private queue: Promise<void> = Promise.resolve();
  /** Requests made, how long they waited for their turn in all, and how many at half pace. */
  readonly stats = { requests: 0, waitedMs: 0, slowed: 0 };

  constructor(
    private readonly limits: Pick<CrmLimits, 'requests' | 'windowMs'>,
    private readonly crm?: Pick<CrmAdapter, 'usage'>,
    options: PacerOptions = {},
  ) {
    this.marginMs = options.marginMs ?? Math.min(100, Math.round(limits.windowMs * 0.02));
    this.slowAbove = options.slowAbove ?? 0.8;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The share of the CRM's daily budget used, when it reports one. */
  usage(): number | undefined {
    const u = this.crm?.usage?.();
    return u && u.max > 0 ? u.used / u.max : undefined;
  }

  /** Resolves when one more request may start, counted from now (turns in call order). */
  async take(): Promise<void> {
    (await this.acquire())();
  }

  /** Waits for a turn; the returned function marks the request answered (call it when it is). */
  acquire(): Promise<() => void> {
    const turn = this.queue.then(() => this.wait());
    this.queue = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  private async wait(): Promise<() => void> {
    const begin = this.now();
    for (;;) {
      const slow = (this.usage() ?? 0) > this.slowAbove;
      const allowed = slow ? Math.max(1, Math.floor(this.limits.requests / 2)) : this.limits.requests;
      const window = this.limits.windowMs + this.marginMs;
      const at = this.now();
      for (let i = this.slots.length - 1; i >= 0; i--) if (this.slots[i]!.at <= at - window) this.slots.splice(i, 1);
      if (this.slots.length < allowed) {
        const slot = { at: Infinity };
        this.slots.push(slot);
        this.stats.requests++;
        this.stats.waitedMs += at - begin;
        if (slow) this.stats.slowed++;
        return () => {
          slot.at = this.now();
        };
      }
      // The earliest a slot can leave: the oldest answered one a window later (or soon, to look again).
      const answered = this.slots.map((s) => s.at).filter((t) => t !== Infinity);
      const next = answered.length ? Math.min(...answered) + window - at + 1 : 10;
      await this.sleep(Math.max(1, next));
    }
  }
}

export type FetchFn = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** A fetch that waits for the pacer's turn before every request (every CRM call of one adapter). */
export function pacedFetch(pacer: () => Pacer, fetchImpl: FetchFn = (input, init) => fetch(input, init)): FetchFn {
  return async (input, init) => {
    const answered = await pacer().acquire();
    try {
      return await fetchImpl(input, init);
    } finally {
      answered();
    }
  };
}
