/** The append-only event stream: persisted for replay, fanned out live to SSE subscribers. */
import { EventEmitter } from 'node:events';
import type { SkygateEvent } from './model.js';
import type { Store } from './store-port.js';

export class EventBus {
  private readonly live = new EventEmitter();

  constructor(private readonly store: Store) {
    // One listener per open SSE connection; the default cap of 10 would warn on a busy dashboard.
    this.live.setMaxListeners(0);
  }

  async emit(type: string, subject: string | undefined, data: Record<string, unknown>): Promise<SkygateEvent> {
    const event = await this.store.appendEvent({ type, time: new Date().toISOString(), subject, data });
    this.live.emit('event', event);
    return event;
  }

  since(seq: number, limit: number): Promise<SkygateEvent[]> {
    return this.store.eventsSince(seq, limit);
  }

  /** Calls `listener` for every event from now on; answers the unsubscribe function. */
  subscribe(listener: (e: SkygateEvent) => void): () => void {
    this.live.on('event', listener);
    return () => this.live.off('event', listener);
  }
}
