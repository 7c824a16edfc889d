/**
 * Where `services/proxy` and `pods/proxy` send a request, as kube-apiserver's ResourceLocation
 * finds it (pkg/registry/core/service/storage, pkg/registry/core/pod/strategy.go):
 *
 *   services/[https:]NAME[:PORT]   PORT is the service port's name or number; one ready endpoint
 *                                  of that port, at random, with the endpoint's (target) port
 *   pods/[https:]NAME[:PORT]       the pod's IP; PORT is a number, by default the first port its
 *                                  containers declare
 *
 * The endpoints are the Service's EndpointSlices (as kube-apiserver 1.33 reads them). Failures
 * are the apiserver's: 400 for a malformed name, 404 for a missing object, 503 when nothing can
 * take the request. knet skips one check: kube-apiserver refuses to proxy to loopback
 * addresses, and every knet pod is on one.
 */
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { servicePortByRef } from '../base/portforward/ports.js';
import { apiError, badRequest, type ApiError } from './status.js';

export interface ProxyLocation {
  scheme: 'http' | 'https';
  host: string;
  port: number;
}

/** apimachinery's SplitSchemeNamePort: `name`, `name:port`, `scheme:name:port` (scheme http or https). */
export function splitSchemeNamePort(id: string): { scheme: '' | 'http' | 'https'; name: string; port: string } | undefined {
  const parts = id.split(':');
  let scheme = '';
  let name: string;
  let port = '';
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) [name, port] = parts as [string, string];
  else if (parts.length === 3) [scheme, name, port] = parts as [string, string, string];
  else return undefined;
  if (!name || !['', 'http', 'https'].includes(scheme)) return undefined;
  return { scheme: scheme as '' | 'http' | 'https', name, port };
}

const unavailable = (message: string): ApiError => apiError('ServiceUnavailable', message);

/** The endpoint a `services/ID/proxy` request goes to; `pick` chooses among the ready ones (random upstream). */
export function serviceLocation(id: string, lookup: { service(name: string): Service | undefined; slices(name: string): readonly EndpointSlice[] }, pick: (n: number) => number = (n) => Math.floor(Math.random() * n)): ProxyLocation {
  const parsed = splitSchemeNamePort(id);
  if (!parsed) throw badRequest(`invalid service request "${id}"`);
  const { scheme, name } = parsed;
  const svc = lookup.service(name);
  if (!svc) throw apiError('NotFound', `services "${name}" not found`, { name, kind: 'services' });
  let portName = parsed.port;
  if (/^\d+$/.test(portName)) {
    // A number names the service port with that number; the endpoints know it by its name.
    const sp = servicePortByRef(svc, portName);
    if (!sp) throw unavailable(`no service port ${portName} found for service "${name}"`);
    portName = sp.name ?? '';
  }
  const candidates: Array<{ ip: string; port: number }> = [];
  for (const slice of lookup.slices(name)) {
    const port = slice.ports?.find((p) => (p.name ?? '') === portName);
    if (!port?.port) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      for (const ip of ep.addresses.slice(0, 1)) candidates.push({ ip, port: port.port });
    }
  }
  if (!candidates.length) throw unavailable(`no endpoints available for service "${id}"`);
  const chosen = candidates[pick(candidates.length)]!;
  return { scheme: scheme || 'http', host: chosen.ip, port: chosen.port };
}

/** The pod a `pods/ID/proxy` request goes to. */
export function podLocation(id: string, lookup: { pod(name: string): Pod | undefined }): ProxyLocation {
  const parsed = splitSchemeNamePort(id);
  if (!parsed) throw badRequest(`invalid pod request "${id}"`);
  const { scheme, name } = parsed;
  const pod = lookup.pod(name);
  if (!pod) throw apiError('NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
  let port = parsed.port;
  if (port === '') port = String(pod.spec?.containers?.find((c) => c.ports?.length)?.ports?.[0]?.containerPort ?? '');
  if (port !== '' && !/^\d+$/.test(port)) throw badRequest(`invalid pod request "${id}": the port must be a number`);
  const ip = pod.status?.podIP;
  if (!ip) throw unavailable(`error trying to reach service: pod "${name}" has no IP address`);
  return { scheme: scheme || 'http', host: ip, port: port === '' ? (scheme === 'https' ? 443 : 80) : Number(port) };
}
