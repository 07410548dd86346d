/**
 * The local stand-in for EventBridge Scheduler's one-time schedules: timers by name (a second
 * timer of the same name is `exists`), kept in a JSON file in the data directory so a restart
 * loses none, fired by a timer in this process; a failed delivery is tried again 5 s later (as
 * Scheduler retries). Timers further out than setTimeout reaches are re-armed on the way.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { TimerScheduler } from '#shared/automation/scheduler';

interface Timer {
  readonly name: string;
  readonly at: number;
  readonly payload: object;
}

const MAX_TIMEOUT_MS = 2_000_000_000;
const RETRY_MS = 5_000;

export interface LocalScheduler extends TimerScheduler {
  /** Timers not fired yet. */
  pending(): Timer[];
  /** Fires every timer due by `at` now (tests move time this way). */
  fireDue(at: number): Promise<number>;
  stop(): void;
}

export function startLocalScheduler(options: { file?: string | undefined; deliver: (payload: object) => Promise<void>; onError?: (error: unknown) => void; now?: () => number }): LocalScheduler {
  const now = options.now ?? Date.now;
  const timers = new Map<string, Timer>();
  const fired = new Set<string>();
  const handles = new Map<string, NodeJS.Timeout>();
  let stopped = false;

  if (options.file && existsSync(options.file)) {
    const saved = JSON.parse(readFileSync(options.file, 'utf8')) as { timers: Timer[]; fired: string[] };
    for (const t of saved.timers) timers.set(t.name, t);
    for (const f of saved.fired) fired.add(f);
  }
  const save = () => {
    if (!options.file) return;
    const tmp = `${options.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ timers: [...timers.values()], fired: [...fired].slice(-10_000) }));
    renameSync(tmp, options.file);
  };

  async function fire(timer: Timer): Promise<void> {
    handles.delete(timer.name);
    if (stopped || !timers.has(timer.name)) return;
    try {
      await options.deliver(timer.payload);
      timers.delete(timer.name);
      fired.add(timer.name);
      save();
    } catch (error) {
      options.onError?.(error);
      if (!stopped) handles.set(timer.name, setTimeout(() => void fire(timer), RETRY_MS).unref());
    }
  }

  function arm(timer: Timer): void {
    const wait = timer.at - now();
    const handle = wait > MAX_TIMEOUT_MS ? setTimeout(() => arm(timer), MAX_TIMEOUT_MS) : setTimeout(() => void fire(timer), Math.max(0, wait));
    handle.unref();
    handles.set(timer.name, handle);
  }
  for (const timer of timers.values()) arm(timer);

  return {
    async schedule(name, at, payload) {
      if (timers.has(name) || fired.has(name)) return 'exists';
      const timer = { name, at, payload };
      timers.set(name, timer);
      save();
      arm(timer);
      return 'scheduled';
    },
    pending: () => [...timers.values()],
    async fireDue(at) {
      const due = [...timers.values()].filter((t) => t.at <= at);
      for (const timer of due) {
        clearTimeout(handles.get(timer.name));
        await fire(timer);
      }
      return due.length;
    },
    stop() {
      stopped = true;
      for (const handle of handles.values()) clearTimeout(handle);
      handles.clear();
    },
  };
}
