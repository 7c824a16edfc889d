/**
 * `knet describe KIND NAME`: kubectl's describe layout for the kinds people describe most
 * (Pod, Service, Node, Deployment, Ingress, EndpointSlice), a generic one for the rest, and
 * the object's Events at the end.
 */
import { stringify } from 'yaml';
import type { Pod, Service, Node, Event } from 'kubernetes-types/core/v1.js';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Ingress } from 'kubernetes-types/networking/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KObject, Kind } from '../../model/object.js';
import { KINDS } from '../../model/object.js';
import { connect, type GlobalOptions } from '../connect.js';
import { resolveKind } from '../resources.js';
import { age } from '../age.js';
import { externalIP, podStatusText, formatTable } from '../printers.js';

type Lines = string[];
const kv = (lines: Lines, key: string, value: unknown, indent = 0) => lines.push(`${' '.repeat(indent)}${`${key}:`.padEnd(Math.max(18 - indent, key.length + 2))}${value ?? '<none>'}`);
const mapText = (m: Record<string, string> | undefined, indent: number) =>
  m && Object.keys(m).length ? Object.entries(m).map(([k, v], i) => (i === 0 ? '' : ' '.repeat(indent)) + `${k}=${v}`).join('\n') : '<none>';

export async function describeCommand(kindArg: string, name: string, opts: GlobalOptions & { namespace?: string }, out: (s: string) => void): Promise<void> {
  const kind = resolveKind(kindArg);
  const conn = await connect(opts);
  try {
    const ns = KINDS[kind].namespaced ? (opts.namespace ?? 'default') : undefined;
    const obj = await conn.store.get(kind, ns, name);
    if (!obj) throw new Error(`${kindArg} "${name}" not found`);
    const events = ((await conn.store.list('Event')).items as unknown as Event[]).filter((e) => e.involvedObject.uid === obj.metadata?.uid || (e.involvedObject.kind === kind && e.involvedObject.name === name && e.involvedObject.namespace === ns));
    out(describe(kind, obj, events));
  } finally {
    await conn.close();
  }
}

export function describe(kind: Kind, obj: KObject, events: Event[]): string {
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
      kv(l, 'Labels', mapText(md.labels, 18));
      kv(l, 'Annotations', mapText(md.annotations, 18));
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
  kv(l, 'Labels', mapText(p.metadata?.labels, 18));
  kv(l, 'Annotations', mapText(p.metadata?.annotations, 18));
  kv(l, 'Status', podStatusText(p));
  if (p.metadata?.deletionTimestamp) kv(l, 'Termination Grace Period', `${p.metadata.deletionGracePeriodSeconds}s`);
  kv(l, 'IP', p.status?.podIP);
  kv(l, 'Controlled By', p.metadata?.ownerReferences?.find((o) => o.controller) ? `${p.metadata.ownerReferences.find((o) => o.controller)!.kind}/${p.metadata.ownerReferences.find((o) => o.controller)!.name}` : '<none>');
  l.push('Containers:');
  for (const c of p.spec?.containers ?? []) {
    const st = p.status?.containerStatuses?.find((s) => s.name === c.name);
    l.push(`  ${c.name}:`);
    kv(l, 'Image', c.image, 4);
    if (c.command) kv(l, 'Command', c.command.join(' '), 4);
    if (c.args) kv(l, 'Args', c.args.join(' '), 4);
    kv(l, 'Port', (c.ports ?? []).map((x) => `${x.containerPort}/${x.protocol ?? 'TCP'}`).join(', ') || '<none>', 4);
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
  l.push('Conditions:');
  l.push(indent(formatTable([['Type', 'Status'], ...(p.status?.conditions ?? []).map((c) => [c.type, c.status])]), 2));
}

function describeService(l: Lines, s: Service): void {
  kv(l, 'Labels', mapText(s.metadata?.labels, 18));
  kv(l, 'Annotations', mapText(s.metadata?.annotations, 18));
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
  kv(l, 'Labels', mapText(n.metadata?.labels, 18));
  kv(l, 'Annotations', mapText(n.metadata?.annotations, 18));
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
  kv(l, 'Labels', mapText(d.metadata?.labels, 18));
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
  kv(l, 'Labels', mapText(i.metadata?.labels, 18));
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
  kv(l, 'Annotations', mapText(i.metadata?.annotations, 18));
}

function describeSlice(l: Lines, s: EndpointSlice): void {
  kv(l, 'Labels', mapText(s.metadata?.labels, 18));
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
  for (const e of events.sort((a, b) => (a.lastTimestamp ?? '').localeCompare(b.lastTimestamp ?? ''))) {
    const count = (e.count ?? 1) > 1 ? ` (x${e.count} over ${age(e.firstTimestamp)})` : '';
    rows.push([e.type ?? '', e.reason ?? '', age(e.lastTimestamp) + count, e.source?.component ?? e.reportingComponent ?? '', e.message ?? '']);
  }
  return `Events:\n${indent(formatTable(rows), 2)}`;
}

function indent(text: string, n: number): string {
  return text
    .split('\n')
    .map((x) => ' '.repeat(n) + x)
    .join('\n');
}
