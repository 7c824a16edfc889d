/**
 * `knet describe KIND NAME`: kubectl's describe layout for the kinds people describe most
 * (Pod, Service, Node, Deployment, Ingress, EndpointSlice, NetworkPolicy: describe-netpol.ts), a
 * generic one for the rest, and the object's Events at the end.
 */
import { stringify } from 'yaml';
import type { Container, ContainerStatus, Pod, Service, Node, Event } from 'kubernetes-types/core/v1.js';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Ingress, NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KObject, Kind } from '../../base/model/object.js';
import { KINDS } from '../../base/model/object.js';
import { connect, type GlobalOptions } from '../connect.js';
import { parseResourceArgs } from '../resource-args.js';
import { age } from '../../base/printers/age.js';
import { eventCount, eventFirstSeen, eventLastSeen } from '../../base/printers/event-times.js';
import { externalIP } from '../../base/printers/service-cells.js';
import { podStatusText } from '../../base/printers/pod-cells.js';
import { formatTable } from '../../base/printers/text-table.js';
import { describeNetworkPolicy } from './describe-netpol.js';
import { annotationsText, labelsText } from './describe-maps.js';

type Lines = string[];
const kv = (lines: Lines, key: string, value: unknown, indent = 0) => lines.push(`${' '.repeat(indent)}${`${key}:`.padEnd(Math.max(18 - indent, key.length + 2))}${value ?? '<none>'}`);

/** `knet describe TYPE [NAME…]` or `TYPE/NAME…`; a type alone describes every object of it in the namespace. */
export async function describeCommand(args: string[], opts: GlobalOptions & { namespace?: string }, out: (s: string) => void): Promise<void> {
  const groups = parseResourceArgs(args, 'describe');
  const conn = await connect(opts);
  try {
    const events = (await conn.store.list('Event')).items as unknown as Event[];
    const described: string[] = [];
    for (const g of groups) {
      const ns = KINDS[g.kind].namespaced ? (opts.namespace ?? 'default') : undefined;
      const objects = g.names.length
        ? await Promise.all(g.names.map(async (name) => (await conn.store.get(g.kind, ns, name)) ?? name))
        : (await conn.store.list(g.kind, ns)).items;
      for (const obj of objects) {
        if (typeof obj === 'string') throw new Error(`${g.kindArg} "${obj}" not found`);
        const name = obj.metadata?.name;
        const own = events.filter((e) => e.involvedObject.uid === obj.metadata?.uid || (e.involvedObject.kind === g.kind && e.involvedObject.name === name && e.involvedObject.namespace === ns));
        described.push(describe(g.kind, obj, own));
      }
    }
    if (!described.length) out(`No resources found in ${opts.namespace ?? 'default'} namespace.`);
    // kubectl separates descriptions with a blank line.
    else out(described.join('\n\n'));
  } finally {
    await conn.close();
  }
}

export function describe(kind: Kind, obj: KObject, events: Event[]): string {
  if (kind === 'NetworkPolicy') return describeNetworkPolicy(obj as NetworkPolicy);
  const l: Lines = [];
  const md = obj.metadata ?? {};
  kv(l, 'Name', md.name);
  if (md.namespace) kv(l, 'Namespace', md.namespace);
  switch (kind) {
    case 'Pod':
      describePod(l, obj as Pod);
      break;
    case 'Service':
      describeService(l, obj as Service);
      break;
    case 'Node':
      describeNode(l, obj as Node);
      break;
    case 'Deployment':
      describeDeployment(l, obj as Deployment);
      break;
    case 'Ingress':
      describeIngress(l, obj as Ingress);
      break;
    case 'EndpointSlice':
      describeSlice(l, obj as unknown as EndpointSlice);
      break;
    default: {
      kv(l, 'Labels', labelsText(md.labels, 18));
      kv(l, 'Annotations', annotationsText(md.annotations, 18));
      const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = obj as KObject & Record<string, unknown>;
      l.push(stringify(rest).trimEnd());
    }
  }
  l.push(eventsSection(events));
  return l.join('\n');
}

function describePod(l: Lines, p: Pod): void {
  kv(l, 'Priority', p.spec?.priority ?? 0);
  kv(l, 'Service Account', p.spec?.serviceAccountName ?? 'default');
  kv(l, 'Node', p.spec?.nodeName ? `${p.spec.nodeName}/${p.status?.hostIP ?? ''}` : '<none>');
  kv(l, 'Start Time', p.status?.startTime);
  kv(l, 'Labels', labelsText(p.metadata?.labels, 18));
  kv(l, 'Annotations', annotationsText(p.metadata?.annotations, 18));
  kv(l, 'Status', podStatusText(p));
  if (p.metadata?.deletionTimestamp) kv(l, 'Termination Grace Period', `${p.metadata.deletionGracePeriodSeconds}s`);
  kv(l, 'IP', p.status?.podIP);
  kv(l, 'Controlled By', p.metadata?.ownerReferences?.find((o) => o.controller) ? `${p.metadata.ownerReferences.find((o) => o.controller)!.kind}/${p.metadata.ownerReferences.find((o) => o.controller)!.name}` : '<none>');
  containersSection(l, 'Containers', p.spec?.containers ?? [], p.status?.containerStatuses);
  // kubectl describe's section for the debuggers `kubectl debug` added (no ports, no probes).
  if (p.spec?.ephemeralContainers?.length) containersSection(l, 'Ephemeral Containers', p.spec.ephemeralContainers, p.status?.ephemeralContainerStatuses);
  l.push('Conditions:');
  l.push(indent(formatTable([['Type', 'Status'], ...(p.status?.conditions ?? []).map((c) => [c.type, c.status])]), 2));
}

function containersSection(l: Lines, title: string, containers: Container[], statuses: ContainerStatus[] | undefined): void {
  l.push(`${title}:`);
  for (const c of containers) {
    const st = statuses?.find((s) => s.name === c.name);
    l.push(`  ${c.name}:`);
    kv(l, 'Image', c.image, 4);
    if (c.command) kv(l, 'Command', c.command.join(' '), 4);
    if (c.args) kv(l, 'Args', c.args.join(' '), 4);
    // kubectl's describeContainerBasicInfo: plural once there is more than one; a port without hostPort is 0/TCP.
    const ports = (c.ports ?? []).map((x) => `${x.containerPort}/${x.protocol ?? 'TCP'}`);
    kv(l, ports.length > 1 ? 'Ports' : 'Port', ports.join(', ') || '<none>', 4);
    const hostPorts = (c.ports ?? []).map((x) => `${x.hostPort ?? 0}/${x.protocol ?? 'TCP'}`);
    kv(l, hostPorts.length > 1 ? 'Host Ports' : 'Host Port', hostPorts.join(', ') || '<none>', 4);
    const state = st?.state?.running ? `Running (started ${st.state.running.startedAt})` : st?.state?.waiting ? `Waiting (${st.state.waiting.reason})` : st?.state?.terminated ? `Terminated (${st.state.terminated.reason}, exit code ${st.state.terminated.exitCode})` : '<unknown>';
    kv(l, 'State', state, 4);
    if (st?.lastState?.terminated) kv(l, 'Last State', `Terminated (${st.lastState.terminated.reason}, exit code ${st.lastState.terminated.exitCode})`, 4);
    kv(l, 'Ready', st?.ready ? 'True' : 'False', 4);
    kv(l, 'Restart Count', st?.restartCount ?? 0, 4);
    for (const [label, probe] of [['Liveness', c.livenessProbe], ['Readiness', c.readinessProbe], ['Startup', c.startupProbe]] as const) {
      if (!probe) continue;
      const action = probe.httpGet ? `http-get ${probe.httpGet.scheme === 'HTTPS' ? 'https' : 'http'}://:${probe.httpGet.port}${probe.httpGet.path ?? '/'}` : probe.tcpSocket ? `tcp-socket :${probe.tcpSocket.port}` : probe.exec ? `exec [${probe.exec.command?.join(' ')}]` : '?';
      kv(l, label, `${action} delay=${probe.initialDelaySeconds ?? 0}s timeout=${probe.timeoutSeconds ?? 1}s period=${probe.periodSeconds ?? 10}s #success=${probe.successThreshold ?? 1} #failure=${probe.failureThreshold ?? 3}`, 4);
    }
  }
}

function describeService(l: Lines, s: Service): void {
  kv(l, 'Labels', labelsText(s.metadata?.labels, 18));
  kv(l, 'Annotations', annotationsText(s.metadata?.annotations, 18));
  kv(l, 'Selector', s.spec?.selector ? Object.entries(s.spec.selector).map(([k, v]) => `${k}=${v}`).join(',') : '<none>');
  kv(l, 'Type', s.spec?.type ?? 'ClusterIP');
  kv(l, 'IP Family Policy', s.spec?.ipFamilyPolicy ?? 'SingleStack');
  kv(l, 'IP Families', (s.spec?.ipFamilies ?? ['IPv4']).join(','));
  kv(l, 'IP', s.spec?.clusterIP);
  kv(l, 'IPs', (s.spec?.clusterIPs ?? []).join(','));
  if (s.spec?.type === 'ExternalName') kv(l, 'External Name', s.spec.externalName);
  if (s.spec?.externalIPs?.length) kv(l, 'External IPs', s.spec.externalIPs.join(','));
  if (s.spec?.type === 'LoadBalancer') kv(l, 'LoadBalancer Ingress', externalIP(s));
  for (const p of s.spec?.ports ?? []) {
    kv(l, 'Port', `${p.name ?? '<unset>'}  ${p.port}/${p.protocol ?? 'TCP'}`);
    kv(l, 'TargetPort', `${p.targetPort ?? p.port}/${p.protocol ?? 'TCP'}`);
    if (p.nodePort) kv(l, 'NodePort', `${p.name ?? '<unset>'}  ${p.nodePort}/${p.protocol ?? 'TCP'}`);
  }
  kv(l, 'Session Affinity', s.spec?.sessionAffinity ?? 'None');
  if (s.spec?.sessionAffinity === 'ClientIP') kv(l, 'Affinity Timeout', `${s.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800}s`);
  if (s.spec?.externalTrafficPolicy) kv(l, 'External Traffic Policy', s.spec.externalTrafficPolicy);
  kv(l, 'Internal Traffic Policy', s.spec?.internalTrafficPolicy ?? 'Cluster');
  if (s.spec?.healthCheckNodePort) kv(l, 'HealthCheck NodePort', s.spec.healthCheckNodePort);
}

function describeNode(l: Lines, n: Node): void {
  kv(l, 'Roles', '<none>');
  kv(l, 'Labels', labelsText(n.metadata?.labels, 18));
  kv(l, 'Annotations', annotationsText(n.metadata?.annotations, 18));
  kv(l, 'CreationTimestamp', n.metadata?.creationTimestamp);
  kv(l, 'Taints', (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).join(', ') || '<none>');
  l.push('Conditions:');
  l.push(indent(formatTable([['Type', 'Status', 'Reason', 'Message'], ...(n.status?.conditions ?? []).map((c) => [c.type, c.status, c.reason ?? '', c.message ?? ''])]), 2));
  l.push('Addresses:');
  for (const a of n.status?.addresses ?? []) l.push(`  ${a.type}:  ${a.address}`);
  kv(l, 'PodCIDR', n.spec?.podCIDR);
}

function describeDeployment(l: Lines, d: Deployment): void {
  kv(l, 'CreationTimestamp', d.metadata?.creationTimestamp);
  kv(l, 'Labels', labelsText(d.metadata?.labels, 18));
  kv(l, 'Selector', Object.entries(d.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(','));
  const st = d.status;
  kv(l, 'Replicas', `${d.spec?.replicas ?? 1} desired | ${st?.updatedReplicas ?? 0} updated | ${st?.replicas ?? 0} total | ${st?.availableReplicas ?? 0} available | ${st?.unavailableReplicas ?? 0} unavailable`);
  kv(l, 'StrategyType', d.spec?.strategy?.type ?? 'RollingUpdate');
  const ru = d.spec?.strategy?.rollingUpdate;
  if ((d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate') kv(l, 'RollingUpdateStrategy', `${ru?.maxUnavailable ?? '25%'} max unavailable, ${ru?.maxSurge ?? '25%'} max surge`);
  l.push('Pod Template:');
  l.push(indent(stringify(d.spec?.template).trimEnd(), 2));
  l.push('Conditions:');
  l.push(indent(formatTable([['Type', 'Status', 'Reason'], ...(st?.conditions ?? []).map((c) => [c.type, c.status, c.reason ?? ''])]), 2));
}

function describeIngress(l: Lines, i: Ingress): void {
  kv(l, 'Labels', labelsText(i.metadata?.labels, 18));
  kv(l, 'Address', (i.status?.loadBalancer?.ingress ?? []).map((x) => x.ip).join(','));
  kv(l, 'Ingress Class', i.spec?.ingressClassName ?? '<none>');
  const db = i.spec?.defaultBackend?.service;
  kv(l, 'Default backend', db ? `${db.name}:${db.port?.number ?? db.port?.name}` : '<default>');
  if (i.spec?.tls?.length) {
    l.push('TLS:');
    for (const t of i.spec.tls) l.push(`  ${t.secretName ?? '<default>'} terminates ${(t.hosts ?? []).join(',')}`);
  }
  l.push('Rules:');
  const rows = [['Host', 'Path', 'Backends']];
  for (const r of i.spec?.rules ?? []) for (const p of r.http?.paths ?? []) rows.push([r.host ?? '*', `${p.path ?? '/'} (${p.pathType})`, `${p.backend.service?.name}:${p.backend.service?.port?.number ?? p.backend.service?.port?.name}`]);
  l.push(indent(formatTable(rows), 2));
  kv(l, 'Annotations', annotationsText(i.metadata?.annotations, 18));
}

function describeSlice(l: Lines, s: EndpointSlice): void {
  kv(l, 'Labels', labelsText(s.metadata?.labels, 18));
  kv(l, 'AddressType', s.addressType);
  l.push('Ports:');
  l.push(indent(formatTable([['Name', 'Port', 'Protocol'], ...(s.ports ?? []).map((p) => [p.name || '<unset>', String(p.port ?? ''), p.protocol ?? 'TCP'])]), 2));
  l.push('Endpoints:');
  for (const e of s.endpoints ?? []) {
    l.push(`  - Addresses:  ${e.addresses.join(',')}`);
    l.push(`    Conditions:`);
    l.push(`      Ready:    ${e.conditions?.ready ?? true}`);
    l.push(`      Serving:  ${e.conditions?.serving ?? true}`);
    l.push(`      Terminating:  ${e.conditions?.terminating ?? false}`);
    if (e.hostname) l.push(`    Hostname:   ${e.hostname}`);
    if (e.targetRef) l.push(`    TargetRef:  ${e.targetRef.kind}/${e.targetRef.name}`);
    l.push(`    NodeName:   ${e.nodeName ?? '<unset>'}`);
    l.push(`    Zone:       ${e.zone ?? '<unset>'}`);
  }
}

function eventsSection(events: Event[]): string {
  if (!events.length) return 'Events:            <none>';
  const rows = [['Type', 'Reason', 'Age', 'From', 'Message'], ['----', '------', '----', '----', '-------']];
  // kubectl sorts by lastTimestamp: the scheduler's events (events.k8s.io, no lastTimestamp) first.
  for (const e of events.sort((a, b) => (Date.parse(a.lastTimestamp ?? '') || 0) - (Date.parse(b.lastTimestamp ?? '') || 0))) {
    const count = eventCount(e) > 1 ? `${age(eventLastSeen(e))} (x${eventCount(e)} over ${age(eventFirstSeen(e))})` : age(eventFirstSeen(e));
    rows.push([e.type ?? '', e.reason ?? '', count, e.source?.component || e.reportingComponent || '', (e.message ?? '').trim()]);
  }
  return `Events:\n${indent(formatTable(rows), 2)}`;
}

function indent(text: string, n: number): string {
  return text
    .split('\n')
    .map((x) => ' '.repeat(n) + x)
    .join('\n');
}
