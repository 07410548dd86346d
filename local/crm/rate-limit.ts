/**
 * A rolling-window request limit, as CRMs enforce them (HubSpot's "ten secondly rolling"): a
 * request is allowed when fewer than `requests` were allowed in the last `windowMs`.
 */
import type { StandInRateLimit } from './stand-in.ts';

export class RollingLimit {
  private readonly times: number[] = [];
  private limit: StandInRateLimit | undefined;

  constructor(limit?: StandInRateLimit, private readonly now: () => number = Date.now) {
    this.limit = limit;
  }

  set(limit: StandInRateLimit | undefined): void {
    this.limit = limit;
    this.times.length = 0;
  }

  /** True when the request may go ahead (and counts it); false when it is over the limit. */
  take(): boolean {
    if (!this.limit) return true;
    const at = this.now();
    while (this.times.length && this.times[0]! <= at - this.limit.windowMs) this.times.shift();
    if (this.times.length >= this.limit.requests) return false;
    this.times.push(at);
    return true;
  }

  /** Seconds until the oldest request of the window leaves it (a Retry-After). */
  retryAfterSeconds(): number {
    if (!this.limit || !this.times.length) return 1;
    return Math.max(1, Math.ceil((this.times[0]! + this.limit.windowMs - this.now()) / 1000));
  }
}
