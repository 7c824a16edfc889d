/**
 * Listeners that cannot be served, turned into Warning events on their Service. (kube-proxy's
 * iptables mode recorded "can't open port" warnings on the Node when it could not hold a
 * nodePort; knet's listeners are the whole data path, so the Service is where a user looks.)
 * A failure is reported once when it appears — and again if it clears and comes back — not on
 * every bind retry, so an event's count means "failed again after working", not "the retry
 * timer fired".
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EventRecorder } from '../dataplane/base/admission/events.js';
import type { KObject } from '../dataplane/base/model/object.js';

export const BIND_FAILED_REASON = 'FailedToBindServicePort';
/** Recorded when a listener reported as failed is serving again, so `knet get svc` can tell a current failure from an old one. */
export const BIND_RECOVERED_REASON = 'ServicePortBound';

export interface ListenerFailure {
  /** The listener id ("TCP/127.96.0.10:53"). */
  id: string;
  /** "ns/name" */
  service: string;
  /** The reason and the fix, from describeBindError (or the claim conflict). */
  error: string;
}

/** What the Service's events say about its listeners: the failure still standing, if any. */
export interface BindEventLike {
  reason?: string;
  message?: string;
  lastTimestamp?: string;
  involvedObject?: { kind?: string; namespace?: string; name?: string };
}

/**
 * The bind failures still standing, per Service ("ns/name" → messages): the failure events
 * newer than the Service's last ServicePortBound event. Pure, for `knet get svc`.
 */
export function standingBindFailures(events: readonly BindEventLike[]): Map<string, string[]> {
  const ofService = (e: BindEventLike) => `${e.involvedObject?.namespace ?? 'default'}/${e.involvedObject?.name}`;
  const onService = events.filter((e) => e.involvedObject?.kind === 'Service');
  const recovered = new Map<string, string>();
  for (const e of onService) {
    if (e.reason !== BIND_RECOVERED_REASON) continue;
    const at = e.lastTimestamp ?? '';
    if (at > (recovered.get(ofService(e)) ?? '')) recovered.set(ofService(e), at);
  }
  const standing = new Map<string, string[]>();
  for (const e of onService) {
    if (e.reason !== BIND_FAILED_REASON || (e.lastTimestamp ?? '') < (recovered.get(ofService(e)) ?? '')) continue;
    const messages = standing.get(ofService(e)) ?? [];
    if (!messages.includes(e.message ?? '')) messages.push(e.message ?? '');
    standing.set(ofService(e), messages);
  }
  return standing;
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
    const cleared = new Set<string>();
    for (const key of this.reported.keys()) {
      if (current.has(key) || binding.has(key.slice(0, key.indexOf(' ')))) continue;
      this.reported.delete(key);
      cleared.add(key.slice(key.indexOf(' ') + 1));
    }
    // Told once every listener of the Service serves, so its last event says where it stands.
    const failing = new Set([...this.reported.keys()].map((key) => key.slice(key.indexOf(' ') + 1)));
    for (const name of cleared) {
      const svc = failing.has(name) ? undefined : this.service(name);
      if (svc) this.recorder.record(svc as KObject, 'Normal', BIND_RECOVERED_REASON, 'every listener of the Service is serving');
    }
  }
}
