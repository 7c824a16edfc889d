/**
 * A pod's runtime events (Pulled, Started, BackOff, FailedMount…): each is logged, handed to the
 * integrator's immediate tap if it has one, and held until the next status delivery carries it
 * (container-runner.ts's onStatus: each event delivered once). A bounded history stays for
 * `describe` and tests, as the kubelet's recorder keeps no more than the API will.
 */
import type { Logger } from '../../base/log.js';
import { metaTime } from '../../base/model/meta-time.js';
import type { EventType } from './slot-deps.js';

export interface RuntimeEvent {
  type: EventType;
  /** Pulled, Created, Started, Killing, Unhealthy, BackOff, Failed, FailedMount, InvalidEnvironmentVariableNames. */
  reason: string;
  message: string;
  /** The container the event is about, if any. */
  container?: string;
  /** involvedObject.fieldPath, e.g. "spec.containers{web}". */
  fieldPath?: string;
  time: string;
}

export type EventTap = (type: EventType, reason: string, message: string, container?: string, fieldPath?: string) => void;

/** How many events of a pod are kept in its history: a crash-looping pod's events must not grow without end. */
const HISTORY_LIMIT = 1000;

export class PodEvents {
  private readonly history: RuntimeEvent[] = [];
  private pending: RuntimeEvent[] = [];

  constructor(
    private readonly logger: Logger,
    /** Something happened: the status that carries it should be delivered. */
    private readonly changed: () => void,
    private readonly tap?: EventTap,
  ) {}

  emit(container: string | undefined, fieldPath: string | undefined, type: EventType, reason: string, message: string): void {
    const ev: RuntimeEvent = { type, reason, message, ...(container ? { container, fieldPath } : {}), time: metaTime() };
    this.history.push(ev);
    if (this.history.length > HISTORY_LIMIT) this.history.shift();
    this.pending.push(ev);
    this.logger.info('event', { type, reason, message, container });
    this.tap?.(type, reason, message, container, fieldPath);
    this.changed();
  }

  /** The events since the previous call, for the status being delivered. */
  takePending(): RuntimeEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }

  all(): RuntimeEvent[] {
    return [...this.history];
  }
}
