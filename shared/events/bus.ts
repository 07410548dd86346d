/**
 * Domain events (a segment change, …) that other parts react to: on AWS the EventBridge bus,
 * locally an in-process bus with the same contract. Events carry deterministic ids, so a
 * repeated publish (at-least-once) is recognisable by consumers (invariant 2).
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';

/** Any event with a type and a deterministic id; its other fields travel as the detail. */
export interface DomainEvent {
  readonly type: string;
  readonly id: string;
}

export interface DomainEventBus {
  publish(events: readonly DomainEvent[]): Promise<void>;
}

export const EVENT_SOURCE = 'whatsapp-scrm';

export class EventBridgeBus implements DomainEventBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: readonly DomainEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += 10) {
      const batch = events.slice(i, i + 10);
      const result = await this.client.send(
        new PutEventsCommand({
          Entries: batch.map((event) => ({ EventBusName: this.busName, Source: EVENT_SOURCE, DetailType: event.type, Detail: JSON.stringify(event) })),
        }),
      );
      if (result.FailedEntryCount) {
        const failed = result.Entries?.find((e) => e.ErrorCode);
        throw new Error(`EventBridge refused ${result.FailedEntryCount} event(s): ${failed?.ErrorCode ?? ''} ${failed?.ErrorMessage ?? ''}`);
      }
    }
  }
}

/**
 * The local bus: keeps every event (once per id, for inspection) and tells listeners of every
 * publish — a repeated publish too, as EventBridge delivers it again: consumers dedupe by id.
 */
export class LocalEventBus implements DomainEventBus {
  private readonly seen = new Map<string, DomainEvent>();
  private readonly listeners: ((event: DomainEvent) => void)[] = [];

  async publish(events: readonly DomainEvent[]): Promise<void> {
    for (const event of events) {
      this.seen.set(event.id, event);
      for (const listener of this.listeners) listener(event);
    }
  }

  on(listener: (event: DomainEvent) => void): void {
    this.listeners.push(listener);
  }

  events(): DomainEvent[] {
    return [...this.seen.values()];
  }
}
