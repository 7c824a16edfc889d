/**
 * Which port of a pod a forward or a proxy reaches, as kubectl and the apiserver resolve it:
 *
 *   - a pod's port is a number or the name of one of its containers' ports;
 *   - a Service's port is named by number or by name (kubectl's port-forward, the apiserver's
 *     `services/NAME:PORT/proxy`) and reaches its targetPort on the pod: a number, a container
 *     port's name, or (unset) the port itself;
 *   - kubectl's port specs: "8080", "9000:8080", ":8080" (any free local port), "http".
 *
 * Errors carry kubectl's wording, since that is where a user meets them.
 */
import type { Container, Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';

export interface PortMapping {
  /** 0: any free port. */
  local: number;
  remote: number;
}

const isNumber = (s: string) => /^\d+$/.test(s);

/** The containerPort a pod's containers (init containers too) declare under `name`, if any. */
export function containerPortByName(pod: Pod, name: string): number | undefined {
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])] as Container[]) {
    const p = c.ports?.find((cp) => cp.name === name);
    if (p) return p.containerPort;
  }
  return undefined;
}

function namedPortOf(pod: Pod, name: string): number {
  const port = containerPortByName(pod, name);
  if (port === undefined) throw new Error(`Pod '${pod.metadata?.name}' does not have a named port '${name}'`);
  return port;
}

/** A Service's port named by number ("80") or by name ("http"). */
export function servicePortByRef(svc: Service, ref: string): ServicePort | undefined {
  return isNumber(ref) ? svc.spec?.ports?.find((p) => p.port === Number(ref)) : svc.spec?.ports?.find((p) => p.name === ref);
}

/** The pod port a Service port reaches (kubectl's translateServicePortToTargetPort). */
export function targetPortOn(sp: ServicePort, pod: Pod): number {
  const target = sp.targetPort;
  if (typeof target === 'string' && !isNumber(target)) return namedPortOf(pod, target);
  return Number(target ?? 0) || sp.port;
}

const splitPort = (spec: string): [string, string] => {
  const parts = spec.split(':');
  return parts.length === 2 ? [parts[0]!, parts[1]!] : [parts[0]!, parts[0]!];
};

function toMapping(spec: string, local: string, remote: number): PortMapping {
  const localNum = local === '' ? 0 : Number(local);
  if (!Number.isInteger(localNum) || localNum < 0 || localNum > 65535) throw new Error(`Error parsing local port '${local}': invalid port in "${spec}"`);
  if (!Number.isInteger(remote) || remote <= 0 || remote > 65535) throw new Error(`Error parsing remote port '${remote}': invalid port in "${spec}"`);
  return { local: localNum, remote };
}

/** A pod's ports: "8080", "9000:8080", ":8080" (any free local port), "http" (a named containerPort). */
export function podPortMappings(specs: readonly string[], pod: Pod): PortMapping[] {
  return specs.map((spec) => {
    const [local, remote] = splitPort(spec);
    const remoteNum = isNumber(remote) ? Number(remote) : namedPortOf(pod, remote);
    return toMapping(spec, local === remote ? String(remoteNum) : local, remoteNum);
  });
}

/**
 * A Service's ports (kubectl's translateServicePortToTargetPort): REMOTE names a service port
 * by number or name and is forwarded to its targetPort on the pod; with no LOCAL the local
 * port is the service port.
 */
export function servicePortMappings(specs: readonly string[], svc: Service, pod: Pod): PortMapping[] {
  const name = svc.metadata?.name;
  return specs.map((spec) => {
    const [local, remote] = splitPort(spec);
    const sp = servicePortByRef(svc, remote);
    if (!sp) throw new Error(isNumber(remote) ? `Service ${name} does not have a service port ${remote}` : `Service '${name}' does not have a named port '${remote}'`);
    return toMapping(spec, local === remote ? String(sp.port) : local, targetPortOn(sp, pod));
  });
}
