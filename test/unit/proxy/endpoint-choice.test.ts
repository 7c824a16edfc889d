import { describe, expect, it } from 'vitest';
import { EndpointChooser, type Frontend, type Route } from '../../../proxy/endpoint-choice.js';
import { buildServiceTable } from '../../../proxy/service-table.js';
import { NODE1, NODE2, NODES, slice, svc, type EP } from './fixtures.js';
import type { ServiceSpec } from 'kubernetes-types/core/v1.js';

const KEY = 'default/web:/TCP';
const EXTERNAL = '127.51.200.1';
const POD_ON_1 = '127.51.1.200';
const POD_ON_2 = '127.51.2.200';
const ON1: EP = { ip: '127.51.1.1', node: 'node-1' };
const ON2: EP = { ip: '127.51.2.1', node: 'node-2' };
const TERM = { ready: false, serving: true, terminating: true };

function chooser(spec: Partial<ServiceSpec>, endpoints: EP[], served = NODES) {
  const c = new EndpointChooser(() => 0.5);
  const table = buildServiceTable(
    [svc('web', { clusterIP: '127.51.96.10', ports: [{ port: 80, nodePort: 30080 }], ...spec }, { lbIPs: ['127.51.255.200'] })],
    [slice('web', [{ port: 8080 }], endpoints)],
  );
  c.update(table, NODES, served, 0);
  return c;
}

function summary(r: Route): string {
  if (r.action !== 'forward') return r.action;
  return `${r.endpoints.map((e) => e.ip).sort().join('+')} from ${r.sourceAddress}`;
}

const CIP: Frontend = { role: 'clusterIP' };
const NP1: Frontend = { role: 'nodePort', node: 'node-1' };
const NP2: Frontend = { role: 'nodePort', node: 'node-2' };
const LB1: Frontend = { role: 'loadBalancer', node: 'node-1' };
const EXT1: Frontend = { role: 'externalIP', node: 'node-1' };
const BOTH = `${ON1.ip}+${ON2.ip}`;

describe('route', () => {
  it.each<[string, Partial<ServiceSpec>, EP[], Frontend, string, string]>([
    // No endpoints at all: reject everywhere.
    ['no endpoints, ClusterIP', {}, [], CIP, EXTERNAL, 'reject'],
    ['no endpoints, NodePort Local', { type: 'NodePort', externalTrafficPolicy: 'Local' }, [], NP1, EXTERNAL, 'reject'],
    ['only unready endpoints', {}, [{ ...ON1, ready: false, serving: false }], CIP, EXTERNAL, 'reject'],
    // ClusterIP keeps the client address.
    ['ClusterIP from outside', {}, [ON1, ON2], CIP, EXTERNAL, `${BOTH} from ${EXTERNAL}`],
    ['ClusterIP from a pod', {}, [ON1, ON2], CIP, POD_ON_2, `${BOTH} from ${POD_ON_2}`],
    ['ClusterIP falls back to terminating', {}, [{ ...ON1, ...TERM }, { ...ON2, ready: false, serving: false }], CIP, EXTERNAL, `${ON1.ip} from ${EXTERNAL}`],
    // internalTrafficPolicy Local: the client's node.
    ['ITP Local from a pod on node-1', { internalTrafficPolicy: 'Local' }, [ON1, ON2], CIP, POD_ON_1, `${ON1.ip} from ${POD_ON_1}`],
    ['ITP Local from a pod on node-2', { internalTrafficPolicy: 'Local' }, [ON1, ON2], CIP, POD_ON_2, `${ON2.ip} from ${POD_ON_2}`],
    ['ITP Local from node-2 itself', { internalTrafficPolicy: 'Local' }, [ON1, ON2], CIP, NODE2.ip, `${ON2.ip} from ${NODE2.ip}`],
    ['ITP Local, none on the client node: hang', { internalTrafficPolicy: 'Local' }, [ON1], CIP, POD_ON_2, 'hang'],
    ['ITP Local from outside: first served node', { internalTrafficPolicy: 'Local' }, [ON1, ON2], CIP, EXTERNAL, `${ON1.ip} from ${EXTERNAL}`],
    ['ITP Local uses local terminating while remote is ready', { internalTrafficPolicy: 'Local' }, [{ ...ON1, ...TERM }, ON2], CIP, POD_ON_1, `${ON1.ip} from ${POD_ON_1}`],
    // externalTrafficPolicy Cluster: any endpoint, SNAT to the receiving node.
    ['NodePort Cluster on node-1', { type: 'NodePort' }, [ON2], NP1, EXTERNAL, `${ON2.ip} from ${NODE1.ip}`],
    ['NodePort Cluster on node-2', { type: 'NodePort' }, [ON1, ON2], NP2, EXTERNAL, `${BOTH} from ${NODE2.ip}`],
    ['NodePort Cluster from a pod is SNATed too', { type: 'NodePort' }, [ON1], NP1, POD_ON_1, `${ON1.ip} from ${NODE1.ip}`],
    ['LoadBalancer Cluster SNATs to the announcing node', { type: 'LoadBalancer' }, [ON2], LB1, EXTERNAL, `${ON2.ip} from ${NODE1.ip}`],
    ['LoadBalancer Cluster from a pod on node-2: its own node', { type: 'LoadBalancer' }, [ON1], LB1, POD_ON_2, `${ON1.ip} from ${NODE2.ip}`],
    ['externalIP Cluster', { externalIPs: ['127.51.200.50'] }, [ON2], EXT1, EXTERNAL, `${ON2.ip} from ${NODE1.ip}`],
    // externalTrafficPolicy Local: local endpoints, source kept, hang without one.
    ['NodePort Local with a local endpoint', { type: 'NodePort', externalTrafficPolicy: 'Local' }, [ON1, ON2], NP1, EXTERNAL, `${ON1.ip} from ${EXTERNAL}`],
    ['NodePort Local without one: hang', { type: 'NodePort', externalTrafficPolicy: 'Local' }, [ON1], NP2, EXTERNAL, 'hang'],
    ['NodePort Local from the other node is external', { type: 'NodePort', externalTrafficPolicy: 'Local' }, [ON1], NP2, NODE1.ip, 'hang'],
    ['NodePort Local from a pod on the same node: cluster set', { type: 'NodePort', externalTrafficPolicy: 'Local' }, [ON1], NP2, POD_ON_2, `${ON1.ip} from ${POD_ON_2}`],
    ['NodePort Local from the node itself: cluster set', { type: 'NodePort', externalTrafficPolicy: 'Local' }, [ON1], NP2, NODE2.ip, `${ON1.ip} from ${NODE2.ip}`],
    ['NodePort Local falls back to local terminating', { type: 'NodePort', externalTrafficPolicy: 'Local' }, [{ ...ON1, ...TERM }, ON2], NP1, EXTERNAL, `${ON1.ip} from ${EXTERNAL}`],
    ['NodePort Local, local not serving: hang even if remote ready', { type: 'NodePort', externalTrafficPolicy: 'Local' }, [{ ...ON1, ready: false, serving: false, terminating: true }, ON2], NP1, EXTERNAL, 'hang'],
    ['LoadBalancer Local keeps the client IP', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }, [ON1], LB1, EXTERNAL, `${ON1.ip} from ${EXTERNAL}`],
    ['LoadBalancer Local from a pod: cluster set, own IP', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }, [ON1], LB1, POD_ON_2, `${ON1.ip} from ${POD_ON_2}`],
  ])('%s', (_n, spec, eps, frontend, client, want) => {
    expect(summary(chooser(spec, eps).route(KEY, frontend, client))).toBe(want);
  });

  it('rejects a service port that is gone', () => {
    expect(chooser({}, [ON1]).route('default/nope:/TCP', CIP, EXTERNAL).action).toBe('reject');
  });

  it('uses distinct round-robin scopes for local and cluster sets', () => {
    const c = chooser({ type: 'NodePort', externalTrafficPolicy: 'Local' }, [ON1, ON2]);
    const local = c.route(KEY, NP1, EXTERNAL);
    const cluster = c.route(KEY, NP1, POD_ON_1);
    expect(local.action === 'forward' && local.scope).toBe('local@node-1');
    expect(cluster.action === 'forward' && cluster.scope).toBe('cluster@');
  });
});

function pick(c: EndpointChooser, client: string, now = 0, retry = false, frontend: Frontend = CIP): string {
  const r = c.route(KEY, frontend, client);
  if (r.action !== 'forward') return r.action;
  return c.choose(KEY, r, client, now, retry)!.ip;
}

const THREE: EP[] = [ON1, { ip: '127.51.1.2', node: 'node-1' }, ON2];

function rebuild(c: EndpointChooser, spec: Partial<ServiceSpec>, eps: EP[], now: number) {
  c.update(buildServiceTable([svc('web', { clusterIP: '127.51.96.10', ...spec })], [slice('web', [{ port: 8080 }], eps)]), NODES, NODES, now);
}

describe('choose', () => {
  it('round robin covers every endpoint in n picks', () => {
    const c = chooser({}, THREE);
    expect(new Set([pick(c, 'x'), pick(c, 'x'), pick(c, 'x')]).size).toBe(3);
  });

  it('ClientIP affinity holds for one client and a second client takes the next endpoint', () => {
    const c = new EndpointChooser();
    rebuild(c, { sessionAffinity: 'ClientIP' }, THREE, 0);
    const first = pick(c, EXTERNAL, 0);
    for (let i = 1; i <= 20; i++) expect(pick(c, EXTERNAL, i * 100)).toBe(first);
    const other = pick(c, '127.51.200.2', 2_100);
    expect(other).not.toBe(first);
    expect(pick(c, '127.51.200.2', 2_200)).toBe(other);
  });

  it('affinity expires after timeoutSeconds idle and the next pick rotates', () => {
    const c = new EndpointChooser();
    rebuild(c, { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 2 } } }, THREE, 0);
    const first = pick(c, EXTERNAL, 0);
    expect(pick(c, EXTERNAL, 1_900)).toBe(first);
    expect(pick(c, EXTERNAL, 3_800)).toBe(first); // slid from 1.9 s
    expect(pick(c, EXTERNAL, 5_900)).not.toBe(first);
  });

  it('a retry passes over the endpoints the connection already failed on', () => {
    const c = chooser({}, THREE);
    const r = c.route(KEY, CIP, EXTERNAL);
    if (r.action !== 'forward') throw new Error(r.action);
    const tried = new Set<string>();
    for (let attempt = 0; attempt < 3; attempt++) {
      // Two other connections move the shared rotation on between this one's attempts (a
      // full turn of three: without `tried` this one would get the same endpoint each time).
      c.choose(KEY, r, '127.51.200.9', 0);
      c.choose(KEY, r, '127.51.200.9', 0);
      const ep = c.choose(KEY, r, EXTERNAL, 0, attempt > 0, tried)!;
      expect(tried.has(`${ep.ip}:${ep.port}`)).toBe(false);
      tried.add(`${ep.ip}:${ep.port}`);
    }
    expect(tried.size).toBe(3);
  });

  it('a retry skips the sticky record, advances and overwrites it', () => {
    const c = new EndpointChooser();
    rebuild(c, { sessionAffinity: 'ClientIP' }, THREE, 0);
    const first = pick(c, EXTERNAL, 0);
    const retried = pick(c, EXTERNAL, 1, true);
    expect(retried).not.toBe(first);
    expect(pick(c, EXTERNAL, 2)).toBe(retried);
    expect(c.affinityEntries(KEY)).toEqual([[EXTERNAL, `${retried}:8080`]]);
  });

  it('a record of a departed endpoint is dropped', () => {
    const c = new EndpointChooser();
    rebuild(c, { sessionAffinity: 'ClientIP' }, THREE, 0);
    const first = pick(c, EXTERNAL, 0);
    rebuild(c, { sessionAffinity: 'ClientIP' }, THREE.filter((e) => e.ip !== first), 10);
    expect(c.affinityEntries(KEY)).toEqual([]);
    expect(pick(c, EXTERNAL, 20)).not.toBe(first);
  });

  it('switches None ↔ ClientIP live', () => {
    const c = new EndpointChooser();
    rebuild(c, { sessionAffinity: 'ClientIP' }, THREE, 0);
    const first = pick(c, EXTERNAL, 0);
    expect(pick(c, EXTERNAL, 1)).toBe(first);
    rebuild(c, { sessionAffinity: 'None' }, THREE, 2);
    expect(new Set([pick(c, EXTERNAL, 3), pick(c, EXTERNAL, 4), pick(c, EXTERNAL, 5)]).size).toBe(3);
    rebuild(c, { sessionAffinity: 'ClientIP' }, THREE, 6);
    const again = pick(c, EXTERNAL, 7);
    for (let i = 8; i < 20; i++) expect(pick(c, EXTERNAL, i)).toBe(again);
  });

  it('rotation survives a rebuild with the same endpoints and restarts after a change', () => {
    const c = new EndpointChooser(() => 0);
    rebuild(c, {}, THREE, 0);
    const a = pick(c, 'x');
    rebuild(c, {}, THREE, 1);
    const b = pick(c, 'x');
    rebuild(c, {}, THREE, 2);
    const d = pick(c, 'x');
    expect(new Set([a, b, d]).size).toBe(3);
  });

  it('affinity only sticks to candidates of the route (local set)', () => {
    const c = new EndpointChooser();
    c.update(
      buildServiceTable(
        [svc('web', { clusterIP: '127.51.96.10', type: 'NodePort', externalTrafficPolicy: 'Local', sessionAffinity: 'ClientIP', ports: [{ port: 80, nodePort: 30080 }] })],
        [slice('web', [{ port: 8080 }], [ON1, ON2])],
      ),
      NODES,
      NODES,
      0,
    );
    expect(pick(c, EXTERNAL, 0, false, NP1)).toBe(ON1.ip);
    expect(pick(c, EXTERNAL, 1, false, NP2)).toBe(ON2.ip);
    expect(pick(c, EXTERNAL, 2, false, NP2)).toBe(ON2.ip);
  });
});
