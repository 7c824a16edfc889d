/**
 * `knet netpol matrix [-n NS]… [--port P/PROTO]` prints the pod-to-pod reachability truth table
 * under the current NetworkPolicies, as the upstream e2e network-policy tests and cyclonus print
 * theirs (rows: from, columns: to, `.` allowed, `X` denied); `knet netpol why FROM TO PORT[/PROTO]`
 * names the policies and rules behind one verdict. Both read one consistent snapshot of the store
 * into the same PolicyWorld the data plane enforces with.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { MemoryInformerFactory } from '../../base/informer/informer-cache.js';
import { PolicyWorld } from '../../base/netpol/policy-world.js';
import { systemPeers } from '../../base/netpol/system-peers.js';
import { ruleName, type DirectionVerdict } from '../../base/netpol/decide.js';
import { peerName, type Peer, type Protocol } from '../../base/netpol/peer.js';
import type { KObject, Kind } from '../../base/model/object.js';
import { connect, UsageError, type GlobalOptions } from '../connect.js';

const SNAPSHOT: Kind[] = ['NetworkPolicy', 'Pod', 'Namespace', 'Node'];
const PROTOCOLS: Protocol[] = ['TCP', 'UDP', 'SCTP'];

async function snapshot(opts: GlobalOptions): Promise<{ world: PolicyWorld; pods: Array<Pod & KObject> }> {
  const conn = await connect(opts);
  try {
    const { byKind } = await conn.store.listKinds(SNAPSHOT);
    const informers = new MemoryInformerFactory();
    // With the DNS server and the ingress controller as the pods the data plane takes them for.
    const world = new PolicyWorld(informers, { systemPeers: systemPeers(conn.config) });
    for (const kind of SNAPSHOT) for (const o of byKind.get(kind) ?? []) informers.upsert(o);
    const pods = ((byKind.get('Pod') ?? []) as Array<Pod & KObject>).filter((p) => p.status?.podIP && !p.spec?.hostNetwork && p.status.phase !== 'Succeeded' && p.status.phase !== 'Failed');
    pods.sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
    return { world, pods };
  } finally {
    await conn.close();
  }
}

/** `80`, `80/UDP`. */
export function parsePortSpec(spec: string): { port: number; protocol: Protocol } {
  const m = /^(\d{1,5})(?:\/([a-zA-Z]+))?$/.exec(spec.trim());
  const protocol = (m?.[2]?.toUpperCase() ?? 'TCP') as Protocol;
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535 || !PROTOCOLS.includes(protocol)) throw new UsageError(`invalid port "${spec}": want PORT or PORT/PROTOCOL (TCP, UDP, SCTP), e.g. 80/TCP`);
  return { port: Number(m[1]), protocol };
}

/** A pod's first declared port: what `matrix` probes when no --port is given. */
function firstPort(p: Pod): { port: number; protocol: Protocol } | undefined {
  const cp = p.spec?.containers?.flatMap((c) => c.ports ?? [])[0];
  return cp ? { port: cp.containerPort, protocol: (cp.protocol ?? 'TCP') as Protocol } : undefined;
}

export async function netpolMatrixCommand(opts: GlobalOptions & { namespace?: string[]; port?: string }, out: (s: string) => void): Promise<void> {
  const fixed = opts.port ? parsePortSpec(opts.port) : undefined;
  const { world, pods: all } = await snapshot(opts);
  const namespaces = opts.namespace?.length ? new Set(opts.namespace) : undefined;
  const pods = all.filter((p) => !namespaces || namespaces.has(p.metadata?.namespace ?? 'default'));
  if (!pods.length) {
    out(namespaces ? `No running pods in namespace(s) ${[...namespaces].join(', ')}.` : 'No running pods.');
    return;
  }
  const names = pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
  const targets = pods.map((p) => fixed ?? firstPort(p));
  const width = Math.max(...names.map((n) => n.length), 4);
  const colWidth = Math.max(...names.map((n) => n.length));
  out(`reachability at ${fixed ? `${fixed.port}/${fixed.protocol}` : "each destination's first container port"} (rows: from, columns: to; . allowed, X denied, - no port)`);
  out(['from \\ to'.padEnd(width), ...names.map((n) => n.padEnd(colWidth))].join('  ').trimEnd());
  pods.forEach((from, i) => {
    const cells = pods.map((to, j) => {
      const t = targets[j];
      const mark = !t ? '-' : world.check(from.status!.podIP!, to.status!.podIP!, t.port, t.protocol).allowed ? '.' : 'X';
      return mark.padEnd(colWidth);
    });
    out([names[i]!.padEnd(width), ...cells].join('  ').trimEnd());
  });
}

export async function netpolWhyCommand(from: string, to: string, portSpec: string, opts: GlobalOptions & { namespace?: string[] }, out: (s: string) => void): Promise<void> {
  const { port, protocol } = parsePortSpec(portSpec);
  const { world, pods } = await snapshot(opts);
  const ns = opts.namespace?.[0] ?? 'default';
  const src = resolvePeer(world, pods, from, ns);
  const dst = resolvePeer(world, pods, to, ns);
  const v = world.check(src.ip, dst.ip, port, protocol);
  out(`${peerName(src)} (${src.ip}) → ${peerName(dst)} (${dst.ip}) port ${port}/${protocol}: ${v.allowed ? 'ALLOWED' : 'DENIED'}`);
  out(`  egress of ${peerName(src)}: ${describeDirection(v.egress)}`);
  out(`  ingress to ${peerName(dst)}: ${describeDirection(v.ingress)}`);
}

function describeDirection(d: DirectionVerdict): string {
  if (!d.allowed) return `denied: ${d.reason}`;
  if (d.allowedBy.length) return `allowed by ${d.allowedBy.map(ruleName).join(', ')} (isolated by ${d.isolatedBy.join(', ')})`;
  return `allowed: ${d.reason}`;
}

/** `ns/pod`, `pod` (in -n's namespace), or an IP address. */
function resolvePeer(world: PolicyWorld, pods: Array<Pod & KObject>, ref: string, ns: string): Peer {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ref)) return world.peer(ref);
  const [pns, name] = ref.includes('/') ? (ref.split('/', 2) as [string, string]) : [ns, ref];
  const pod = pods.find((p) => p.metadata?.namespace === pns && p.metadata?.name === name);
  if (!pod) {
    // The DNS server and the ingress controller are pods to NetworkPolicy, by these names.
    const system = [...world.systemPeerList()].find((p) => p.namespace === pns && p.name === name);
    if (system) return system;
    throw new Error(`pods "${name}" not found in namespace "${pns}" (or it has no pod IP yet)`);
  }
  return world.peer(pod.status!.podIP!);
}
