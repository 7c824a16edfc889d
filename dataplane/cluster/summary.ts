/**
 * What `knet up` prints when the cluster is ready: what runs where, the Services, and the
 * curl and dig commands that reach them.
 */
import type { Service, Pod } from 'kubernetes-types/core/v1.js';
import type { Ingress } from 'kubernetes-types/networking/v1.js';
import type { ObjectStore } from '../base/store/object-store.js';
import type { ClusterConfig } from '../base/cluster-config.js';
import { nodeIP, podSubnet } from '../base/cluster-config.js';
import { formatTable } from '../base/printers/text-table.js';
import { servicePorts, externalIP } from '../base/printers/service-cells.js';
import { DNS_PROXY_NAME, INGRESS_PROXY_NAME } from './bootstrap.js';
import { LABEL_SERVICE_PROXY_NAME } from '../base/model/well-known.js';

export interface SummaryInput {
  name: string;
  config: ClusterConfig;
  store: ObjectStore;
  nodes: number;
  redis: string;
  pids: Record<string, number | undefined>;
  info: Record<string, Record<string, string | number> | undefined>;
  elapsedMs: number;
  /** What the applied manifests still wait for, one line each, when they did not get ready. */
  notReady?: string[];
  /** Manifests were applied but not waited for (`--wait=false`). */
  notWaited?: boolean;
}

export async function clusterSummary(s: SummaryInput): Promise<string> {
  const { byKind } = await s.store.listKinds(['Service', 'Pod', 'Ingress']);
  const services = (byKind.get('Service') ?? []) as Service[];
  const pods = (byKind.get('Pod') ?? []) as Pod[];
  const ingresses = (byKind.get('Ingress') ?? []) as Ingress[];
  const dnsPort = Number(s.info.dns?.port ?? s.config.dnsPort);
  const dig = `dig @${s.config.dnsServiceIP}${dnsPort !== 53 ? ` -p ${dnsPort}` : ''}`;
  const lines: string[] = [];
  const nodes = `${s.nodes} node${s.nodes === 1 ? '' : 's'}`;
  const seconds = (s.elapsedMs / 1000).toFixed(1);
  lines.push(
    s.notReady?.length
      ? `knet cluster "${s.name}" is up: ${nodes}, started in ${seconds}s; not ready: ${s.notReady.join('; ')}`
      : s.notWaited
        ? `knet cluster "${s.name}" is up: ${nodes}, started in ${seconds}s; what was applied was not waited for (--wait=false)`
        : `knet cluster "${s.name}" is up: ${nodes}, ready in ${seconds}s`,
  );
  lines.push('');
  const rows = [['COMPONENT', 'PID', 'LISTENS ON']];
  rows.push(['redis (state store)', String(s.pids.redis ?? '-'), s.redis]);
  if (s.info.apiserver) rows.push(['apiserver', String(s.pids.apiserver ?? '-'), `https://${s.info.apiserver.address}:${s.info.apiserver.port} (kubectl context knet-${s.name})`]);
  rows.push(['controller-manager', String(s.pids['controller-manager'] ?? '-'), '-']);
  for (let k = 1; k <= s.nodes; k++) rows.push([`node-${k}`, String(s.pids[`node-${k}`] ?? '-'), `${nodeIP(s.config, k)}, pods ${podSubnet(s.config, k)}`]);
  if (s.info.proxy !== undefined || s.pids.proxy) rows.push(['proxy', String(s.pids.proxy ?? '-'), `ClusterIPs in ${s.config.serviceCIDR}, NodePorts on node IPs`]);
  if (s.info.dns) rows.push(['dns', String(s.pids.dns ?? '-'), `${s.info.dns.address}:${dnsPort} udp+tcp`]);
  if (s.info.ingress) rows.push(['ingress', String(s.pids.ingress ?? '-'), `${s.info.ingress.address} http:${s.info.ingress.http ?? 80} https:${s.info.ingress.https ?? 443}`]);
  lines.push(formatTable(rows));
  const userServices = services.filter((v) => !['kube-system', 'ingress-nginx'].includes(v.metadata?.namespace ?? '') && !(v.metadata?.namespace === 'default' && v.metadata?.name === 'kubernetes'));
  if (userServices.length) {
    lines.push('');
    lines.push(formatTable([['NAMESPACE', 'SERVICE', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'PODS READY'], ...userServices.map((v) => [v.metadata!.namespace!, v.metadata!.name!, v.spec?.type ?? 'ClusterIP', v.spec?.clusterIP ?? '', externalIP(v), servicePorts(v), readyPods(v, pods)])]));
  }
  lines.push('');
  lines.push('Try:');
  const tries: Array<[string, string]> = [];
  const hostPort = (host: string, port: number) => (port === 80 ? host : `${host}:${port}`);
  const web = userServices.find((v) => v.spec?.clusterIP && v.spec.clusterIP !== 'None' && v.spec.ports?.length);
  if (web) {
    const port = web.spec!.ports![0]!;
    tries.push([`curl http://${hostPort(web.spec!.clusterIP!, port.port)}/hostname`, 'ClusterIP: round robin over the pods']);
    if (port.nodePort) tries.push([`curl http://${nodeIP(s.config, 1)}:${port.nodePort}/clientip`, 'NodePort on node-1 (the pod sees node-1: SNAT)']);
    if (s.info.dns) tries.push([`${dig} ${web.metadata!.name}.${web.metadata!.namespace}.svc.${s.config.clusterDomain} +short`, 'cluster DNS']);
  } else if (s.info.dns) {
    tries.push([`${dig} kubernetes.default.svc.${s.config.clusterDomain} +short`, 'cluster DNS']);
  }
  const ing = ingresses[0]?.spec?.rules?.find((r) => r.host);
  if (ing && s.info.ingress) tries.push([`curl -H 'Host: ${ing.host}' http://${hostPort(String(s.info.ingress.address), Number(s.info.ingress.http ?? 80))}/`, 'through the ingress controller']);
  const clusterFlag = s.name === 'default' ? '' : ` --cluster ${s.name}`;
  tries.push([`knet get pods -o wide${clusterFlag}`, 'pod IPs and nodes']);
  if (s.info.apiserver) tries.push(['kubectl get pods -A', `the same through the Kubernetes API (context knet-${s.name})`]);
  tries.push([`knet down${clusterFlag}`, 'stop everything (or Ctrl-C without --detach)']);
  const width = Math.max(...tries.map(([c]) => c.length));
  for (const [cmd, why] of tries) lines.push(`  ${cmd.padEnd(width)}   # ${why}`);
  return lines.join('\n');
}

function readyPods(v: Service, pods: Pod[]): string {
  const sel = v.spec?.selector;
  if (!sel || v.metadata?.labels?.[LABEL_SERVICE_PROXY_NAME] === DNS_PROXY_NAME || v.metadata?.labels?.[LABEL_SERVICE_PROXY_NAME] === INGRESS_PROXY_NAME) return '-';
  const selected = pods.filter((p) => p.metadata?.namespace === v.metadata?.namespace && Object.entries(sel).every(([k, val]) => p.metadata?.labels?.[k] === val));
  const ready = selected.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  return `${ready.length}/${selected.length}`;
}
