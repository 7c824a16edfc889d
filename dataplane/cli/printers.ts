/**
 * kubectl's table columns for each kind (`get` and `get -o wide`).
 */
import type { Pod, Service, Node, Endpoints, Secret, ConfigMap, Namespace, Event } from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet, StatefulSet, DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import type { KObject, Kind } from '../model/object.js';
import { age } from './age.js';

/** Other objects a wide column is computed from (the CLI reads the store, not the proxy). */
export interface PrintContext {
  endpointSlices?: EndpointSlice[];
}

export interface Columns {
  headers: string[];
  wide?: string[];
  row(o: KObject): string[];
  wideRow?(o: KObject, context: PrintContext): string[];
}

const none = '<none>';
const labelsText = (m: Record<string, string> | undefined) => (m && Object.keys(m).length ? Object.entries(m).map(([k, v]) => `${k}=${v}`).join(',') : none);

export function podStatusText(p: Pod): string {
  if (p.metadata?.deletionTimestamp) return 'Terminating';
  let reason = p.status?.reason || p.status?.phase || 'Pending';
  for (const cs of p.status?.containerStatuses ?? []) {
    if (cs.state?.waiting?.reason) reason = cs.state.waiting.reason;
    else if (cs.state?.terminated) reason = cs.state.terminated.reason || (cs.state.terminated.signal ? `Signal:${cs.state.terminated.signal}` : `ExitCode:${cs.state.terminated.exitCode}`);
  }
  if (!p.spec?.nodeName && (p.status?.phase ?? 'Pending') === 'Pending') return 'Pending';
  return reason;
}

export function servicePorts(s: Service): string {
  const ports = s.spec?.ports ?? [];
  if (!ports.length) return none;
  // The DNS server falls back from port 53 when it may not bind it; show where it really serves.
  const dnsPort = s.metadata?.annotations?.['knet.dev/dns-port'];
  const served = (p: { port: number }) => (dnsPort && p.port === 53 && dnsPort !== '53' ? `→${dnsPort}` : '');
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}${served(p)}`).join(',');
}

export function externalIP(s: Service): string {
  const type = s.spec?.type ?? 'ClusterIP';
  if (type === 'ExternalName') return s.spec?.externalName ?? none;
  const ips = [...(s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? ''), ...(s.spec?.externalIPs ?? [])].filter(Boolean);
  if (ips.length) return ips.join(',');
  return type === 'LoadBalancer' ? '<pending>' : none;
}

/**
 * The endpoints a Service's traffic goes to, as the proxy picks them: the ready endpoints of
 * its EndpointSlices, or — when none is ready — the serving terminating ones (kube-proxy's
 * fallback). "ip:port", at most three and a count, as kubectl shows Endpoints.
 */
export function serviceEndpoints(s: Service, slices: readonly EndpointSlice[]): string {
  if ((s.spec?.type ?? 'ClusterIP') === 'ExternalName') return none;
  const ns = s.metadata?.namespace ?? 'default';
  const ready = new Set<string>();
  const fallback = new Set<string>();
  for (const slice of slices) {
    if ((slice.metadata?.namespace ?? 'default') !== ns || slice.metadata?.labels?.['kubernetes.io/service-name'] !== s.metadata?.name) continue;
    for (const ep of slice.endpoints ?? []) {
      const c = ep.conditions ?? {};
      const into = c.ready !== false ? ready : c.serving !== false && c.terminating === true ? fallback : undefined;
      for (const p of slice.ports ?? []) if (into && ep.addresses[0] && p.port != null) into.add(`${ep.addresses[0]}:${p.port}`);
    }
  }
  const inUse = [...(ready.size ? ready : fallback)].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (!inUse.length) return none;
  return inUse.slice(0, 3).join(',') + (inUse.length > 3 ? ` + ${inUse.length - 3} more...` : '');
}

const PRINTERS: Record<Kind, Columns> = {
  Pod: {
    headers: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
    wide: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
    row: (o) => {
      const p = o as Pod;
      const cs = p.status?.containerStatuses ?? [];
      const total = p.spec?.containers?.length ?? cs.length;
      const restarts = cs.reduce((n, c) => n + (c.restartCount ?? 0), 0);
      return [p.metadata!.name!, `${cs.filter((c) => c.ready).length}/${total}`, podStatusText(p), String(restarts), age(p.metadata?.creationTimestamp)];
    },
    wideRow: (o) => {
      const p = o as Pod;
      return [p.status?.podIP ?? none, p.spec?.nodeName ?? none, none, none];
    },
  },
  Service: {
    headers: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    wide: ['SELECTOR', 'ENDPOINTS'],
    row: (o) => {
      const s = o as Service;
      return [s.metadata!.name!, s.spec?.type ?? 'ClusterIP', s.spec?.clusterIP ?? none, externalIP(s), servicePorts(s), age(s.metadata?.creationTimestamp)];
    },
    wideRow: (o, context) => [labelsText((o as Service).spec?.selector), serviceEndpoints(o as Service, context.endpointSlices ?? [])],
  },
  Endpoints: {
    headers: ['NAME', 'ENDPOINTS', 'AGE'],
    row: (o) => {
      const e = o as Endpoints;
      const eps = (e.subsets ?? []).flatMap((s) => (s.addresses ?? []).flatMap((a) => (s.ports?.length ? s.ports.map((p) => `${a.ip}:${p.port}`) : [a.ip])));
      const shown = eps.slice(0, 3).join(',') + (eps.length > 3 ? ` + ${eps.length - 3} more...` : '');
      return [e.metadata!.name!, shown || none, age(e.metadata?.creationTimestamp)];
    },
  },
  EndpointSlice: {
    headers: ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'],
    row: (o) => {
      const s = o as unknown as EndpointSlice;
      const addrs = (s.endpoints ?? []).map((e) => e.addresses[0]!);
      const shown = addrs.slice(0, 3).join(',') + (addrs.length > 3 ? ` + ${addrs.length - 3} more...` : '');
      return [s.metadata!.name!, s.addressType, (s.ports ?? []).map((p) => String(p.port)).join(',') || none, shown || none, age(s.metadata?.creationTimestamp)];
    },
  },
  Deployment: {
    headers: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: (o) => {
      const d = o as Deployment;
      return [d.metadata!.name!, `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`, String(d.status?.updatedReplicas ?? 0), String(d.status?.availableReplicas ?? 0), age(d.metadata?.creationTimestamp)];
    },
    wideRow: (o) => {
      const d = o as Deployment;
      const cs = d.spec?.template?.spec?.containers ?? [];
      return [cs.map((c) => c.name).join(','), cs.map((c) => c.image).join(','), labelsText(d.spec?.selector?.matchLabels)];
    },
  },
  ReplicaSet: {
    headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'],
    row: (o) => {
      const r = o as ReplicaSet;
      return [r.metadata!.name!, String(r.spec?.replicas ?? 1), String(r.status?.replicas ?? 0), String(r.status?.readyReplicas ?? 0), age(r.metadata?.creationTimestamp)];
    },
  },
  StatefulSet: {
    headers: ['NAME', 'READY', 'AGE'],
    row: (o) => {
      const s = o as StatefulSet;
      return [s.metadata!.name!, `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 1}`, age(s.metadata?.creationTimestamp)];
    },
  },
  DaemonSet: {
    headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE'],
    row: (o) => {
      const d = o as DaemonSet;
      const st = d.status;
      return [d.metadata!.name!, String(st?.desiredNumberScheduled ?? 0), String(st?.currentNumberScheduled ?? 0), String(st?.numberReady ?? 0), String(st?.updatedNumberScheduled ?? 0), String(st?.numberAvailable ?? 0), labelsText(d.spec?.template?.spec?.nodeSelector), age(d.metadata?.creationTimestamp)];
    },
  },
  Ingress: {
    headers: ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE'],
    row: (o) => {
      const i = o as Ingress;
      const hosts = (i.spec?.rules ?? []).map((r) => r.host ?? '*');
      const address = (i.status?.loadBalancer?.ingress ?? []).map((x) => x.ip ?? x.hostname).join(',');
      return [i.metadata!.name!, i.spec?.ingressClassName ?? none, hosts.length ? hosts.join(',') : '*', address, i.spec?.tls?.length ? '80, 443' : '80', age(i.metadata?.creationTimestamp)];
    },
  },
  IngressClass: {
    headers: ['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE'],
    row: (o) => {
      const c = o as IngressClass;
      return [c.metadata!.name!, c.spec?.controller ?? '', none, age(c.metadata?.creationTimestamp)];
    },
  },
  Node: {
    headers: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
    wide: ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
    row: (o) => {
      const n = o as Node;
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      const unschedulable = n.spec?.unschedulable ? ',SchedulingDisabled' : '';
      const roles = Object.keys(n.metadata?.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.split('/')[1]);
      return [n.metadata!.name!, (ready ? 'Ready' : 'NotReady') + unschedulable, roles.join(',') || none, age(n.metadata?.creationTimestamp), n.status?.nodeInfo?.kubeletVersion ?? ''];
    },
    wideRow: (o) => {
      const n = o as Node;
      const addr = (t: string) => n.status?.addresses?.find((a) => a.type === t)?.address ?? none;
      return [addr('InternalIP'), addr('ExternalIP'), n.status?.nodeInfo?.osImage ?? '', n.status?.nodeInfo?.kernelVersion ?? '', n.status?.nodeInfo?.containerRuntimeVersion ?? ''];
    },
  },
  Namespace: {
    headers: ['NAME', 'STATUS', 'AGE'],
    row: (o) => [o.metadata!.name!, (o as Namespace).status?.phase ?? 'Active', age(o.metadata?.creationTimestamp)],
  },
  Secret: {
    headers: ['NAME', 'TYPE', 'DATA', 'AGE'],
    row: (o) => {
      const s = o as Secret;
      return [s.metadata!.name!, s.type ?? 'Opaque', String(Object.keys(s.data ?? {}).length), age(s.metadata?.creationTimestamp)];
    },
  },
  ConfigMap: {
    headers: ['NAME', 'DATA', 'AGE'],
    row: (o) => [o.metadata!.name!, String(Object.keys((o as ConfigMap).data ?? {}).length + Object.keys((o as ConfigMap).binaryData ?? {}).length), age(o.metadata?.creationTimestamp)],
  },
  Event: {
    headers: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    row: (o) => {
      const e = o as unknown as Event;
      return [age(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp), e.type ?? '', e.reason ?? '', `${(e.involvedObject.kind ?? '').toLowerCase()}/${e.involvedObject.name}`, e.message ?? ''];
    },
  },
};

export function printTable(kind: Kind, objects: KObject[], opts: { wide?: boolean; allNamespaces?: boolean; noHeaders?: boolean; context?: PrintContext } = {}): string {
  const p = PRINTERS[kind];
  const headers = [...(opts.allNamespaces ? ['NAMESPACE'] : []), ...p.headers, ...(opts.wide && p.wide ? p.wide : [])];
  const rows = objects.map((o) => [...(opts.allNamespaces ? [o.metadata?.namespace ?? ''] : []), ...p.row(o), ...(opts.wide && p.wideRow ? p.wideRow(o, opts.context ?? {}) : [])]);
  return formatTable(opts.noHeaders ? rows : [headers, ...rows]);
}

/** Columns padded to the widest cell plus three spaces, as kubectl's tabwriter does. */
export function formatTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('')).join('\n');
}
