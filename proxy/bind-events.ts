/**
 * Listeners that cannot be served, turned into Warning events on their Service. (kube-proxy's
 * iptables mode recorded "can't open port" warnings on the Node when it could not hold a
 * nodePort; knet's listeners are the whole data path, so the Service is where a user looks.)
 * A failure is reported once when it appears — and again if it clears and comes back — not on
 * every bind retry, so an event's count means "failed again after working", not "the retry
 * timer fired".
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EventRecorder } from '../dataplane/api/events.js';
import type { KObject } from '../dataplane/model/object.js';

export const BIND_FAILED_REASON = 'FailedToBindServicePort';

export interface ListenerFailure {
  /** The listener id ("TCP/127.96.0.10:53"). */
  id: string;
  /** "ns/name" */
  service: string;
  /** The reason and the fix, from describeBindError (or the claim conflict). */
  error: string;
}

export class BindErrorEvents {
  /** listener id + service → the error last reported. */
  private readonly reported = new Map<string, string>();

  constructor(
    private readonly recorder: EventRecorder,
    private readonly service: (namespacedName: string) => Service | undefined,
  ) {}

  /**
   * Called with the full list of current failures after every sync and bind. `binding` holds
   * the ids of listeners being (re)tried: their last report stands until the attempt settles.
   */
  update(failures: readonly ListenerFailure[], binding: ReadonlySet<string> = new Set()): void {
    const current = new Set<string>();
    for (const f of failures) {
      const key = `${f.id} ${f.service}`;
      current.add(key);
      if (this.reported.get(key) === f.error) continue;
      const svc = this.service(f.service);
      // A failure of a service that is already gone has nobody to tell.
      if (!svc) continue;
      this.reported.set(key, f.error);
      this.recorder.record(svc as KObject, 'Warning', BIND_FAILED_REASON, f.error);
    }
    for (const key of this.reported.keys()) {
      if (!current.has(key) && !binding.has(key.slice(0, key.indexOf(' ')))) this.reported.delete(key);
    }
  }
}
