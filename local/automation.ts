/**
 * The automation function under `npm start`: the local bus's domain events (and the local
 * scheduler's timers) handed to the same app as on AWS, through a small queue that plays the
 * automation SQS queue: a failed event is tried again after a pause, five times, then logged as
 * dead-lettered (on AWS the DLQ, alarmed).
 */
import { join } from 'node:path';
import { GeoPlacesClient } from '@aws-sdk/client-geo-places';
import { createAutomationApp, parseAutomationEvent } from '#functions/automation/app';
import { automationDeps } from '#functions/automation/wiring';
import type { DomainEvent, LocalEventBus } from '#shared/events/bus';
import { AmazonLocationGeocoder } from '#shared/geo/amazon-location';
import type { MetricsSink } from '#shared/metric-names';
import { AUTOMATION_EVENT_TYPES, AUTOMATION_QUEUE } from '#shared/resources';
import type { Runtime } from '#shared/runtime';
import type { SendJobSink } from '#shared/queue/send-jobs';
import type { WhatsAppAccountApi } from '#shared/whatsapp/outbound/channel';
import { startLocalScheduler, type LocalScheduler } from './scheduler.ts';

export interface LocalAutomation {
  readonly app: ReturnType<typeof createAutomationApp>;
  readonly scheduler: LocalScheduler;
  /** Events and timers waiting or being handled. */
  idle(): Promise<void>;
  /** Events given up after the last attempt (what the DLQ would hold). */
  readonly deadLetters: () => DomainEvent[];
  stop(): void;
}

const TYPES = new Set<string>(AUTOMATION_EVENT_TYPES);

export function startLocalAutomation(options: {
  runtime: Runtime;
  events: LocalEventBus;
  sendJobs: SendJobSink;
  accountApi?: WhatsAppAccountApi | undefined;
  geoEndpoint?: string | undefined;
  dataDir?: string | undefined;
  logger: Parameters<typeof automationDeps>[0]['logger'];
  metrics: MetricsSink;
  retryMs?: number;
  /** Where tracked links point: the stack's own URL once it listens (AU-8). */
  linkBaseUrl?: () => string | undefined;
  /** False: the app is built but hears no events (a stack whose tests drive the functions). */
  listen?: boolean;
  /** Events handled at the same time (Lambda's concurrent invocations); default 4. */
  concurrency?: number;
}): LocalAutomation {
  const { runtime, logger } = options;
  const deadLetters: DomainEvent[] = [];
  let inFlight = 0;
  let waiters: (() => void)[] = [];
  const settled = () => {
    if (inFlight === 0) {
      for (const w of waiters) w();
      waiters = [];
    }
  };
  const timers = new Set<NodeJS.Timeout>();
  let running = 0;
  const waiting: (() => Promise<unknown>)[] = [];
  const startWhenFree = (task: () => Promise<unknown>) => {
    const run = (next: () => Promise<unknown>) => {
      running++;
      setImmediate(() => void next().finally(() => {
        running--;
        const queued = waiting.shift();
        if (queued) run(queued);
      }));
    };
    if (running < (options.concurrency ?? 4)) run(task);
    else waiting.push(task);
  };
  let stopped = false;

  // A timer counts as fired once the function handled it; a failure is tried again by the scheduler.
  const scheduler = startLocalScheduler({
    file: options.dataDir ? join(options.dataDir, 'schedules.json') : undefined,
    deliver: async (payload) => {
      const event = parseAutomationEvent(JSON.stringify(payload));
      if ('error' in event) throw new Error(`not an automation event: ${event.error}`);
      await app.handleEvent(event, { deadline: Date.now() + 10_000 });
    },
    onError: (error) => logger.warn('local timer not handled; tried again in 5 s', { error: String(error) }),
  });
  const geocoder = options.geoEndpoint
    ? new AmazonLocationGeocoder(new GeoPlacesClient({ endpoint: options.geoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }))
    : undefined;
  const app = createAutomationApp(
    automationDeps({
      runtime,
      sendJobs: options.sendJobs,
      accountApi: options.accountApi,
      logger,
      metrics: options.metrics,
      scheduler,
      geocoder,
      linkBaseUrl: options.linkBaseUrl,
    }),
  );

  const deliver = (payload: object, attempt = 1): void => {
    if (stopped) return;
    const event = parseAutomationEvent(JSON.stringify(payload));
    if ('error' in event) {
      logger.error('automation event is not an event', { error: event.error });
      return;
    }
    inFlight++;
    // Off the caller's stack (the webhook answers Meta first, as on AWS), a few at a time, as
    // Lambda's concurrent batches: a 1,000-message delivery does not flood the store at once.
    startWhenFree(() => {
      return app
        .handleEvent(event, { deadline: Date.now() + 10_000 })
        .catch((error: unknown) => {
          if (attempt >= AUTOMATION_QUEUE.maxReceiveCount) {
            deadLetters.push(event as DomainEvent);
            logger.error('automation event dead-lettered', { type: event.type, id: event.id, error: String(error) });
            return;
          }
          logger.warn('automation event failed; it comes back', { type: event.type, id: event.id, attempt, error: String(error) });
          const t = setTimeout(() => {
            timers.delete(t);
            deliver(payload, attempt + 1);
          }, options.retryMs ?? 2_000);
          timers.add(t);
        })
        .finally(() => {
          inFlight--;
          settled();
        });
    });
  };
  if (options.listen !== false) {
    options.events.on((event) => {
      if (TYPES.has(event.type)) deliver(event);
    });
  }

  return {
    app,
    scheduler,
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
    deadLetters: () => [...deadLetters],
    stop() {
      stopped = true;
      scheduler.stop();
      for (const t of timers) clearTimeout(t);
    },
  };
}
