/**
 * What every enforcement point calls before it lets a connection or datagram through: the
 * verdict of PolicyWorld.check (never a second copy of the rules), and on a denial the count per
 * policy (`knet_netpol_denied_total{policy,direction,component}` on the component's /metrics)
 * and a debug line with from, to, port and the policies, rate-limited so a flood of denied
 * probes cannot flood the log.
 *
 * `seenAs` is the source address the destination sees when it differs from the one that opened
 * the connection: kube-proxy DNATs before policy applies (so the opener's egress is checked
 * toward the endpoint pod) and may SNAT to the node IP (so the pod's ingress is checked against
 * the node IP), as on a real cluster.
 */
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { DirectionVerdict, Verdict } from './decide.js';
import { peerName, type Protocol } from './peer.js';
import type { PolicyWorld } from './policy-world.js';

/** Debug lines about denials per second, per component; the rest are counted in the next line. */
const LOG_PER_SECOND = 20;

/** Denials of one policy in one direction, counted in a plain number (see the constructor). */
interface Tally {
  labels: { policy: string; direction: string; component: string };
  n: number;
}

export class PolicyEnforcer {
  readonly denied: Counter<'policy' | 'direction' | 'component'>;
  private readonly tallies = new Map<string, Tally>();
  /** The tallies a denied direction bumps, found once per verdict (a pod's denial is one shared object). */
  private readonly talliesOf = new WeakMap<DirectionVerdict, Tally[]>();
  private logBudget = LOG_PER_SECOND;
  private logWindow: NodeJS.Timeout | undefined;
  private suppressed = 0;

  constructor(
    readonly world: PolicyWorld,
    readonly component: string,
    private readonly log: Logger,
    registry?: Registry,
  ) {
    // prom-client's inc(labels) hashes the label set on every call (most of a denial's cost,
    // measured): denials bump plain numbers, copied into the counter when it is read.
    const tallies = this.tallies;
    this.denied = new Counter({
      name: 'knet_netpol_denied_total',
      help: 'Connections and datagrams a NetworkPolicy denied, by the policy that isolates the pod and the direction',
      labelNames: ['policy', 'direction', 'component'],
      registers: registry ? [registry] : [],
      collect() {
        this.reset();
        for (const t of tallies.values()) this.inc(t.labels, t.n);
      },
    });
  }

  /** Whether `src` may reach `dst:port/protocol` (seen there as `seenAs`); counts and logs a denial. */
  allows(src: string, dst: string, port: number, protocol: Protocol = 'TCP', seenAs: string = src): boolean {
    if (!this.world.enforcing) return true;
    const v = this.world.check(src, dst, port, protocol);
    if (seenAs === src) {
      if (v.allowed) return true;
      this.deny(src, dst, port, protocol, v);
      return false;
    }
    const seen = this.world.check(seenAs, dst, port, protocol);
    if (v.egress.allowed && seen.ingress.allowed) return true;
    this.deny(src, dst, port, protocol, { allowed: false, egress: v.egress, ingress: seen.ingress }, seenAs);
    return false;
  }

  /** The same verdict without counting or logging (re-checking a connection already counted). */
  wouldAllow(src: string, dst: string, port: number, protocol: Protocol = 'TCP'): boolean {
    return !this.world.enforcing || this.world.check(src, dst, port, protocol).allowed;
  }

  private deny(src: string, dst: string, port: number, protocol: Protocol, v: Verdict, seenAs?: string): void {
    this.count(v.egress, 'Egress');
    this.count(v.ingress, 'Ingress');
    if (this.logBudget <= 0) {
      this.suppressed++;
      return;
    }
    this.logBudget--;
    // The budget comes back a second after it was first spent (a timer, not a clock read per denial).
    this.logWindow ??= setTimeout(() => this.refillLog(), 1000).unref();
    const denied: Array<[string, DirectionVerdict]> = [];
    if (!v.egress.allowed) denied.push(['Egress', v.egress]);
    if (!v.ingress.allowed) denied.push(['Ingress', v.ingress]);
    this.log.debug('netpol: denied', {
      from: `${peerName(this.world.peer(src))} (${src})`,
      to: `${peerName(this.world.peer(dst))} (${dst})`,
      port: `${port}/${protocol}`,
      ...(seenAs ? { seenAs } : {}),
      denied: denied.map(([direction, d]) => `${direction.toLowerCase()}: ${d.reason}`),
      policies: [...new Set(denied.flatMap(([, d]) => d.isolatedBy))],
    });
  }

  private refillLog(): void {
    if (this.suppressed > 0) this.log.debug('netpol: more denials not logged', { count: this.suppressed });
    this.logWindow = undefined;
    this.logBudget = LOG_PER_SECOND;
    this.suppressed = 0;
  }

  private count(d: DirectionVerdict, direction: 'Egress' | 'Ingress'): void {
    if (d.allowed) return;
    let tallies = this.talliesOf.get(d);
    if (!tallies) this.talliesOf.set(d, (tallies = d.isolatedBy.map((policy) => this.tally(policy, direction))));
    for (const t of tallies) t.n++;
  }

  private tally(policy: string, direction: string): Tally {
    const key = `${policy}|${direction}`;
    let t = this.tallies.get(key);
    if (!t) this.tallies.set(key, (t = { labels: { policy, direction, component: this.component }, n: 0 }));
    return t;
  }
}
