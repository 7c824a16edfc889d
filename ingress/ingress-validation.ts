/**
 * The API server's Ingress validation (networking/validation), for what it means to us:
 * an Ingress it would have rejected is not served, and the reason is reported. knet's
 * store may validate on write too; checking again here keeps the controller safe against
 * objects written by other tools.
 */
import type { Ingress } from 'kubernetes-types/networking/v1.js';
import { hostError } from './match-host.js';
import { pathTypeWarning, type PathType } from './match-path.js';

export interface IngressCheck {
  /** Why the Ingress cannot be served, if it cannot. */
  error?: string;
  warnings: string[];
}

export function checkIngress(ing: Ingress): IngressCheck {
  const warnings: string[] = [];
  const spec = ing.spec ?? {};
  const rules = spec.rules ?? [];
  if (rules.length === 0 && !spec.defaultBackend) {
    return { error: 'either `defaultBackend` or `rules` must be specified', warnings };
  }
  for (const rule of rules) {
    if (rule.host) {
      const err = hostError(rule.host);
      if (err) return { error: `spec.rules[].host: ${err}`, warnings };
    }
    for (const p of rule.http?.paths ?? []) {
      const type = p.pathType as PathType | undefined;
      if (!type) warnings.push(`path ${p.path ?? ''}: pathType must be specified; treating it as Prefix`);
      else if (!['Exact', 'Prefix', 'ImplementationSpecific'].includes(type)) {
        return { error: `path ${p.path ?? ''}: unsupported pathType ${JSON.stringify(type)}`, warnings };
      }
      const path = p.path ?? '';
      if (type === 'Exact' || type === 'Prefix') {
        const err = exactOrPrefixPathError(path);
        if (err) return { error: `path ${path}: ${err}`, warnings };
        const w = pathTypeWarning(path, type);
        if (w) warnings.push(w);
      } else if (path !== '' && !path.startsWith('/')) {
        return { error: `path ${path}: must be an absolute path`, warnings };
      }
      const backendErr = backendError(p.backend);
      if (backendErr) return { error: `path ${path}: ${backendErr}`, warnings };
      if (p.backend?.resource) warnings.push(`path ${path}: resource backends are not supported; the default backend serves it`);
    }
  }
  if (spec.defaultBackend) {
    const err = backendError(spec.defaultBackend);
    if (err) return { error: `defaultBackend: ${err}`, warnings };
  }
  return { warnings };
}

function exactOrPrefixPathError(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path';
  for (const bad of ['//', '/./', '/../', '%2f', '%2F']) {
    if (path.includes(bad)) return `must not contain '${bad}'`;
  }
  if (path.endsWith('/..') || path.endsWith('/.')) return "must not end with '/..' or '/.'";
  return undefined;
}

function backendError(b: NonNullable<Ingress['spec']>['defaultBackend']): string | undefined {
  if (!b) return 'backend is required';
  if (b.service && b.resource) return 'cannot set both service and resource backends';
  if (!b.service && !b.resource) return 'either service or resource backend must be set';
  if (b.service) {
    const port = b.service.port;
    if (port?.name && port.number) return 'cannot set both port name & port number';
    if (!port?.name && !port?.number) return 'port name or number is required';
  }
  return undefined;
}
