/**
 * Writes under way in this process, by idempotency key: a concurrent call for the same key joins
 * the first and reports `created: false` and no calls of its own. (Across processes the CRM's own
 * unique key decides; this only saves the second request.)
 */
export interface CreatedOnce {
  readonly crmId: string;
  readonly created: boolean;
  readonly calls: number;
}

export class InFlight<T extends CreatedOnce = CreatedOnce> {
  private readonly running = new Map<string, Promise<T>>();

  async once(key: string, write: () => Promise<T>): Promise<T> {
    const running = this.running.get(key);
    if (running) {
      const result = await running;
      return { ...result, created: false, calls: 0 };
    }
    const attempt = write();
    this.running.set(key, attempt);
    try {
      return await attempt;
    } finally {
      this.running.delete(key);
    }
  }
}
