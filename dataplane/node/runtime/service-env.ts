/**
 * The service environment variables the kubelet puts into every container
 * (k/k pkg/kubelet/envvars/envvars.go and kubelet_pods.go getServiceEnvVarMap).
 *
 * Which services: only those with a ClusterIP (not headless, not ExternalName); the pod's own
 * namespace when enableServiceLinks is true (the default); and the `kubernetes` service of the
 * `default` namespace always. A service named `kubernetes` in the pod's own namespace replaces
 * the default one when service links are on, exactly as the kubelet's map overwrite does.
 *
 * Pure: (services visible to the pod, namespace, enableServiceLinks) → env map.
 */
import type { Service } from 'kubernetes-types/core/v1.js';

/** Services the kubelet always exposes from the `default` namespace ("master services"). */
const MASTER_SERVICES = new Set(['kubernetes']);

export function serviceEnv(services: readonly Service[], namespace: string, enableServiceLinks = true): Map<string, string> {
  const byName = new Map<string, Service>();
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const name = svc.metadata?.name ?? '';
    const ns = svc.metadata?.namespace ?? 'default';
    if (ns === 'default' && MASTER_SERVICES.has(name)) {
      if (!byName.has(name)) byName.set(name, svc);
    } else if (ns === namespace && enableServiceLinks) {
      byName.set(name, svc);
    }
  }
  const env = new Map<string, string>();
  // Sorted so the result does not depend on informer order (the kubelet's map is unordered anyway).
  for (const name of [...byName.keys()].sort()) {
    for (const [k, v] of serviceVariables(byName.get(name)!)) env.set(k, v);
  }
  return env;
}

/** The variables of one service, in the kubelet's order (FromServices + makeLinkVariables). */
export function serviceVariables(svc: Service): Array<[string, string]> {
  const ports = svc.spec?.ports ?? [];
  const ip = svc.spec?.clusterIP ?? '';
  if (!isServiceIPSet(svc) || ports.length === 0) return [];
  const prefix = envVariableName(svc.metadata?.name ?? '');
  const out: Array<[string, string]> = [];
  out.push([`${prefix}_SERVICE_HOST`, ip]);
  out.push([`${prefix}_SERVICE_PORT`, String(ports[0]!.port)]);
  // Only the first port may be unnamed (validation); every named port gets its own variable.
  for (const p of ports) {
    if (p.name) out.push([`${prefix}_SERVICE_PORT_${envVariableName(p.name)}`, String(p.port)]);
  }
  // Docker-link compatible variables.
  ports.forEach((p, i) => {
    const protocol = (p.protocol || 'TCP').toUpperCase();
    const lower = protocol.toLowerCase();
    const hostPort = joinHostPort(ip, p.port);
    if (i === 0) out.push([`${prefix}_PORT`, `${lower}://${hostPort}`]);
    const portPrefix = `${prefix}_PORT_${p.port}_${protocol}`;
    out.push([portPrefix, `${lower}://${hostPort}`]);
    out.push([`${portPrefix}_PROTO`, lower]);
    out.push([`${portPrefix}_PORT`, String(p.port)]);
    out.push([`${portPrefix}_ADDR`, ip]);
  });
  return out;
}

/**
 * "redis-master" → "REDIS_MASTER". The kubelet only upper-cases and replaces `-` (service names are
 * DNS-1035 labels, so nothing else can occur); we also map `.` and prefix a leading digit, as the
 * project's reference notes say, so that an invalid name still yields a valid variable name.
 */
export function envVariableName(name: string): string {
  const upper = name.toUpperCase().replace(/[-.]/g, '_');
  return /^[0-9]/.test(upper) ? `_${upper}` : upper;
}

function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
