/**
 * Ingress and IngressClass validation (pkg/apis/networking/validation): rules need hosts that
 * are DNS names (a leading "*." wildcard allowed), every path a pathType, Exact/Prefix paths
 * absolute, and every backend exactly one of service or resource.
 */
import type { HTTPIngressPath, Ingress, IngressBackend, IngressClass } from 'kubernetes-types/networking/v1.js';
import { child, GoLiteral, index, invalid, notSupported, required, tooLong, type FieldError } from './field-error.js';
import {
  isDNS1123Subdomain,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
  nameIsDNS1035Label,
  nameIsDNSSubdomain,
  parseIPFamily,
} from './formats.js';
import { validateObjectMeta } from './object-meta.js';
import { ANNOTATION_INGRESS_CLASS } from '../well-known.js';

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];

function validateBackend(b: IngressBackend, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (b.resource && b.service) return [invalid(path, '', 'cannot set both resource and service backends')];
  if (b.resource) {
    const r = b.resource;
    const rp = child(path, 'resource');
    if (r.apiGroup !== undefined) {
      for (const m of nameIsDNSSubdomain(r.apiGroup, false)) errs.push(invalid(child(rp, 'apiGroup'), r.apiGroup, m));
    }
    if (!r.kind) errs.push(required(child(rp, 'kind'), 'kind is required'));
    if (!r.name) errs.push(required(child(rp, 'name'), 'name is required'));
    return errs;
  }
  if (!b.service) return [invalid(path, '', 'resource or service backend is required')];
  const svc = b.service;
  if (!svc.name) errs.push(required(child(path, 'service', 'name')));
  else for (const m of nameIsDNS1035Label(svc.name, false)) errs.push(invalid(child(path, 'service', 'name'), svc.name, m));
  const portName = svc.port?.name ?? '';
  const portNumber = svc.port?.number ?? 0;
  if (portName && portNumber) errs.push(invalid(path, '', 'cannot set both port name & port number'));
  else if (portName) for (const m of isValidPortName(portName)) errs.push(invalid(child(path, 'service', 'port', 'name'), portName, m));
  else if (portNumber) for (const m of isValidPortNum(portNumber)) errs.push(invalid(child(path, 'service', 'port', 'number'), portNumber, m));
  else errs.push(required(path, 'port name or number is required'));
  return errs;
}

function validatePath(p: HTTPIngressPath, path: string): FieldError[] {
  if (!p.pathType) return [required(child(path, 'pathType'), 'pathType must be specified')];
  const errs: FieldError[] = [];
  const value = p.path ?? '';
  const pp = child(path, 'path');
  switch (p.pathType) {
    case 'Exact':
    case 'Prefix':
      if (!value.startsWith('/')) errs.push(invalid(pp, value, 'must be an absolute path'));
      if (value.length > 0) {
        for (const seq of INVALID_PATH_SEQUENCES) if (value.includes(seq)) errs.push(invalid(pp, value, `must not contain '${seq}'`));
        for (const suf of INVALID_PATH_SUFFIXES) if (value.endsWith(suf)) errs.push(invalid(pp, value, `cannot end with '${suf}'`));
      }
      break;
    case 'ImplementationSpecific':
      if (value.length > 0 && !value.startsWith('/')) errs.push(invalid(pp, value, 'must be an absolute path'));
      break;
    default:
      errs.push(notSupported(child(path, 'pathType'), p.pathType, PATH_TYPES));
  }
  errs.push(...validateBackend(p.backend ?? {}, child(path, 'backend')));
  return errs;
}

function hostErrors(host: string, path: string): FieldError[] {
  const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
  return msgs.map((m) => invalid(path, host, m));
}

export function validateIngress(ing: Ingress): FieldError[] {
  const errs = validateObjectMeta(ing.metadata, true, nameIsDNSSubdomain);
  const spec = ing.spec ?? {};
  const rules = spec.rules ?? [];
  if (rules.length === 0 && !spec.defaultBackend) {
    const shown = spec.rules === undefined ? new GoLiteral('[]networking.IngressRule(nil)') : new GoLiteral('[]networking.IngressRule{}');
    errs.push(invalid('spec', shown, 'either `defaultBackend` or `rules` must be specified'));
  }
  if (spec.defaultBackend) errs.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  rules.forEach((rule, i) => {
    const rp = index('spec.rules', i);
    const host = rule.host ?? '';
    if (host) {
      if (parseIPFamily(host) !== 0) errs.push(invalid(child(rp, 'host'), host, 'must be a DNS name, not an IP address'));
      errs.push(...hostErrors(host, child(rp, 'host')));
    }
    if (rule.http) {
      const hp = child(rp, 'http');
      const paths = rule.http.paths ?? [];
      if (paths.length === 0) errs.push(required(child(hp, 'paths')));
      paths.forEach((p, j) => errs.push(...validatePath(p, index(child(hp, 'paths'), j))));
    }
  });
  (spec.tls ?? []).forEach((tls, i) => {
    const tp = index('spec.tls', i);
    (tls.hosts ?? []).forEach((h, j) => errs.push(...hostErrors(h, index(child(tp, 'hosts'), j))));
    if (tls.secretName) {
      for (const m of nameIsDNSSubdomain(tls.secretName, false)) errs.push(invalid(child(tp, 'secretName'), tls.secretName, m));
    }
  });
  if (spec.ingressClassName !== undefined) {
    for (const m of nameIsDNSSubdomain(spec.ingressClassName, false)) {
      errs.push(invalid('spec.ingressClassName', spec.ingressClassName, m));
    }
    const annotated = ing.metadata?.annotations?.[ANNOTATION_INGRESS_CLASS];
    if (annotated) {
      errs.push(invalid('annotations.kubernetes.io/ingress.class', annotated, 'can not be set when the class field is also set'));
    }
  }
  return errs;
}

export function validateIngressClass(ic: IngressClass): FieldError[] {
  const errs = validateObjectMeta(ic.metadata, false, nameIsDNSSubdomain);
  const controller = ic.spec?.controller ?? '';
  const cp = 'spec.controller';
  if (controller.length > 250) errs.push(tooLong(cp, 250));
  if (controller === '') return [...errs, required(cp)];
  const slash = controller.indexOf('/');
  const host = slash < 0 ? controller : controller.slice(0, slash);
  const rest = slash < 0 ? '' : controller.slice(slash + 1);
  if (slash < 0 || host === '' || rest === '') {
    return [...errs, invalid(cp, controller, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  }
  for (const m of isDNS1123Subdomain(host)) errs.push(invalid(cp, host, m));
  if (!/^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/.test(rest)) {
    errs.push(invalid(cp, rest, "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')"));
  }
  return errs;
}
