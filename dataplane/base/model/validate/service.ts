/**
 * Service validation, after pkg/apis/core/validation ValidateService. Runs on the defaulted
 * object (type, sessionAffinity, protocols, targetPorts, traffic policies are filled in), so
 * "Required" errors for those fields only appear when something cleared them.
 */
import type { Service, ServicePort, ServiceSpec } from 'kubernetes-types/core/v1.js';
import {
  child,
  duplicate,
  forbidden,
  GoLiteral,
  index,
  invalid,
  notSupported,
  required,
  type FieldError,
} from './field-error.js';
import {
  IP_MSG,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidCIDR,
  isValidPortNum,
  nameIsDNS1035Label,
  parseIPFamily,
  specialIPErrors,
  validatePortNumOrName,
} from './formats.js';
import { validateLabels, validateObjectMeta } from './object-meta.js';
import type { ValidationOptions } from './options.js';
import { validateServiceAddresses } from './service-addresses.js';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const AFFINITIES = ['ClientIP', 'None'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const MAX_AFFINITY_TIMEOUT = 86400;

export function isHeadless(spec: ServiceSpec): boolean {
  return (spec.clusterIPs ?? []).length === 1 && spec.clusterIPs?.[0] === 'None';
}

/** apiservice.ExternallyAccessible: reachable from outside through a node or an external IP. */
export function isExternallyAccessible(spec: ServiceSpec): boolean {
  return (
    spec.type === 'LoadBalancer' ||
    spec.type === 'NodePort' ||
    (spec.type === 'ClusterIP' && (spec.externalIPs ?? []).length > 0)
  );
}

export function needsHealthCheck(spec: ServiceSpec): boolean {
  return spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
}

function validateServicePort(sp: ServicePort, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = sp.name ?? '';
  if (requireName && name === '') {
    errs.push(required(child(path, 'name')));
  } else if (name !== '') {
    for (const msg of isDNS1123Label(name)) errs.push(invalid(child(path, 'name'), name, msg));
    if (names.has(name)) errs.push(duplicate(child(path, 'name'), name));
    else names.add(name);
  }
  for (const msg of isValidPortNum(sp.port ?? 0)) errs.push(invalid(child(path, 'port'), sp.port ?? 0, msg));
  if (!sp.protocol) errs.push(required(child(path, 'protocol')));
  else if (!PROTOCOLS.includes(sp.protocol)) errs.push(notSupported(child(path, 'protocol'), sp.protocol, PROTOCOLS));
  errs.push(...validatePortNumOrName(sp.targetPort, child(path, 'targetPort')));
  if (sp.appProtocol !== undefined) {
    for (const msg of isQualifiedName(sp.appProtocol)) errs.push(invalid(child(path, 'appProtocol'), sp.appProtocol, msg));
  }
  return errs;
}

function validateAffinity(spec: ServiceSpec): FieldError[] {
  const path = 'spec.sessionAffinityConfig';
  const errs: FieldError[] = [];
  if (!spec.sessionAffinity) errs.push(required('spec.sessionAffinity'));
  else if (!AFFINITIES.includes(spec.sessionAffinity)) {
    errs.push(notSupported('spec.sessionAffinity', spec.sessionAffinity, AFFINITIES));
  }
  if (spec.sessionAffinity === 'ClientIP') {
    const when = 'when session affinity type is ClientIP';
    const cfg = spec.sessionAffinityConfig;
    if (!cfg) return [...errs, required(path, when)];
    if (!cfg.clientIP) return [...errs, required(child(path, 'clientIP'), when)];
    const t = cfg.clientIP.timeoutSeconds;
    const tPath = child(path, 'clientIP', 'timeoutSeconds');
    if (t === undefined) return [...errs, required(tPath, when)];
    // Upstream checks t <= 0 || t > 86400 but words it "less than 86400": 86400 itself passes.
    if (t <= 0 || t > MAX_AFFINITY_TIMEOUT) {
      errs.push(invalid(tPath, t, `must be greater than 0 and less than ${MAX_AFFINITY_TIMEOUT}`));
    }
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig) {
    errs.push(forbidden(path, 'must not be set when session affinity is None'));
  }
  return errs;
}

/** ValidateServiceClusterIPsRelatedFields, less the dual-stack cases a single-stack knet never has. */
function validateClusterIPs(spec: ServiceSpec): FieldError[] {
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ips = spec.clusterIPs ?? [];
  const ipsPath = 'spec.clusterIPs';
  if (spec.clusterIP) {
    if (ips.length === 0) errs.push(required(ipsPath));
    else if (ips[0] !== spec.clusterIP) errs.push(invalid(ipsPath, ips, 'first value must match `clusterIP`'));
  } else if (ips.length !== 0) {
    errs.push(invalid(ipsPath, ips, 'must be empty when `clusterIP` is not specified'));
  }
  (spec.ipFamilies ?? []).forEach((fam, i) => {
    const p = index('spec.ipFamilies', i);
    if (fam !== 'IPv4' && fam !== 'IPv6') errs.push(notSupported(p, fam, ['IPv4', 'IPv6']));
    if ((spec.ipFamilies ?? []).indexOf(fam) < i) errs.push(duplicate(p, fam));
  });
  const policies = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
  if (spec.ipFamilyPolicy !== undefined && !policies.includes(spec.ipFamilyPolicy)) {
    errs.push(notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, policies));
  }
  let badIP = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        badIP = true;
        errs.push(invalid(ipsPath, ips, "'None' must be the first and only value"));
      }
      return;
    }
    if (parseIPFamily(ip) === 0) {
      badIP = true;
      errs.push(invalid(index(ipsPath, i), ip, IP_MSG));
    }
  });
  if (ips.length > 2) errs.push(invalid(ipsPath, ips, 'may only hold up to 2 values'));
  if (badIP) return errs;
  if (ips.length > 1 && parseIPFamily(ips[0]) === parseIPFamily(ips[1])) {
    errs.push(invalid(ipsPath, ips, 'may specify no more than one IP for each IP family'));
  }
  if (!isHeadless(spec)) {
    const fams = spec.ipFamilies ?? [];
    ips.forEach((ip, i) => {
      if (i >= fams.length) return;
      const fam = parseIPFamily(ip);
      if (fams[i] === 'IPv4' && fam === 6) {
        errs.push(invalid(index(ipsPath, i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      }
      if (fams[i] === 'IPv6' && fam !== 6) {
        errs.push(invalid(index(ipsPath, i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
      }
    });
  }
  return errs;
}

function validateTrafficPolicies(spec: ServiceSpec, opts: ValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  const etp = spec.externalTrafficPolicy ?? '';
  if (!isExternallyAccessible(spec)) {
    if (etp !== '') {
      errs.push(invalid('spec.externalTrafficPolicy', etp, 'may only be set for externally-accessible services'));
    }
  } else if (etp === '') {
    errs.push(required('spec.externalTrafficPolicy'));
  } else if (!TRAFFIC_POLICIES.includes(etp)) {
    errs.push(notSupported('spec.externalTrafficPolicy', etp, TRAFFIC_POLICIES));
  }
  const hc = spec.healthCheckNodePort ?? 0;
  if (!needsHealthCheck(spec)) {
    if (hc !== 0) {
      errs.push(
        invalid('spec.healthCheckNodePort', hc, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"),
      );
    }
  } else if (hc === 0) {
    // Before allocation the allocator still owes this port; after it, a missing one is an error.
    if (opts.allocated) errs.push(required('spec.healthCheckNodePort'));
  } else {
    for (const msg of isValidPortNum(hc)) errs.push(invalid('spec.healthCheckNodePort', hc, msg));
  }
  const itp = spec.internalTrafficPolicy;
  if (itp === undefined) {
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || spec.type === 'ClusterIP') {
      errs.push(required('spec.internalTrafficPolicy'));
    }
  } else if (!TRAFFIC_POLICIES.includes(itp)) {
    errs.push(notSupported('spec.internalTrafficPolicy', itp, TRAFFIC_POLICIES));
  }
  if (spec.trafficDistribution !== undefined && spec.trafficDistribution !== 'PreferClose') {
    errs.push(notSupported('spec.trafficDistribution', spec.trafficDistribution, ['PreferClose']));
  }
  return errs;
}

/** Go prints the duplicate (protocol, port) key as the whole internal ServicePort struct. */
function goPortKey(protocol: string, port: number): GoLiteral {
  return new GoLiteral(
    `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${port}, ` +
      `TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`,
  );
}

function validatePortSets(spec: ServiceSpec): FieldError[] {
  const errs: FieldError[] = [];
  const ports = spec.ports ?? [];
  if (spec.type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (p.nodePort) errs.push(forbidden(child(index('spec.ports', i), 'nodePort'), "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const k = `${p.protocol}/${p.nodePort}`;
    if (nodePorts.has(k)) errs.push(duplicate(child(index('spec.ports', i), 'nodePort'), p.nodePort));
    nodePorts.add(k);
  });
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const k = `${p.protocol}/${p.port}`;
    if (seen.has(k)) errs.push(duplicate(index('spec.ports', i), goPortKey(p.protocol ?? '', p.port ?? 0)));
    seen.add(k);
  });
  return errs;
}

function validateLoadBalancerFields(svc: Service, spec: ServiceSpec): FieldError[] {
  const errs: FieldError[] = [];
  const lbOnly = "may only be used when `type` is 'LoadBalancer'";
  const ranges = spec.loadBalancerSourceRanges ?? [];
  const rangesAnnotation = svc.metadata?.annotations?.['service.beta.kubernetes.io/load-balancer-source-ranges'];
  if (ranges.length > 0) {
    // Upstream's path really is capitalised here.
    const p = 'spec.LoadBalancerSourceRanges';
    if (spec.type !== 'LoadBalancer') errs.push(forbidden(p, lbOnly));
    ranges.forEach((r, i) => {
      const v = r.trim();
      if (!isValidCIDR(v)) errs.push(invalid(index(p, i), v, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
    });
  } else if (rangesAnnotation !== undefined) {
    const p = 'metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]';
    if (spec.type !== 'LoadBalancer') errs.push(forbidden(p, lbOnly));
    const val = rangesAnnotation.trim();
    if (val !== '') {
      for (const r of val.split(',')) {
        const v = r.trim();
        if (!isValidCIDR(v)) errs.push(invalid(p, v, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
      }
    }
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.type !== 'LoadBalancer') {
    errs.push(forbidden('spec.allocateLoadBalancerNodePorts', lbOnly));
  }
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) {
    // Upstream reports this without the "spec." prefix.
    errs.push(required('allocateLoadBalancerNodePorts'));
  }
  if (spec.loadBalancerClass !== undefined) {
    if (spec.type === 'LoadBalancer') {
      for (const msg of isQualifiedName(spec.loadBalancerClass)) {
        errs.push(invalid('spec.loadBalancerClass', spec.loadBalancerClass, msg));
      }
    } else {
      errs.push(forbidden('spec.loadBalancerClass', lbOnly));
    }
  }
  return errs;
}

export function validateService(svc: Service, opts: ValidationOptions = {}): FieldError[] {
  const spec: ServiceSpec = svc.spec ?? {};
  const errs = validateObjectMeta(svc.metadata, true, nameIsDNS1035Label);
  const ports = spec.ports ?? [];
  const headless = isHeadless(spec);

  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') errs.push(required('spec.ports'));
  switch (spec.type) {
    case 'LoadBalancer':
    case 'NodePort':
      if (headless) {
        errs.push(invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${spec.type} services`));
      }
      break;
    case 'ExternalName': {
      const notForExternalName = 'may not be set for ExternalName services';
      if ((spec.clusterIPs ?? []).length > 0) errs.push(forbidden('spec.clusterIPs', notForExternalName));
      if ((spec.ipFamilies ?? []).length > 0) errs.push(forbidden('spec.ipFamilies', notForExternalName));
      if (spec.ipFamilyPolicy !== undefined) errs.push(forbidden('spec.ipFamilyPolicy', notForExternalName));
      // A CNAME may end with a dot to mark it fully qualified.
      const cname = (spec.externalName ?? '').replace(/\.$/, '');
      if (cname === '') errs.push(required('spec.externalName'));
      else for (const msg of isDNS1123Subdomain(cname)) errs.push(invalid('spec.externalName', cname, msg));
      break;
    }
  }

  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, index('spec.ports', i))));
  if (spec.selector) errs.push(...validateLabels(spec.selector, 'spec.selector'));
  errs.push(...validateAffinity(spec));
  errs.push(...validateClusterIPs(spec));

  (spec.externalIPs ?? []).forEach((ip, i) => {
    const p = index('spec.externalIPs', i);
    if (parseIPFamily(ip) === 0) errs.push(invalid(p, ip, IP_MSG));
    else for (const msg of specialIPErrors(ip)) errs.push(invalid(p, ip, msg));
  });

  if (!spec.type) errs.push(required('spec.type'));
  else if (!SERVICE_TYPES.includes(spec.type)) errs.push(notSupported('spec.type', spec.type, SERVICE_TYPES));

  errs.push(...validatePortSets(spec));
  errs.push(...validateLoadBalancerFields(svc, spec));
  errs.push(...validateTrafficPolicies(spec, opts));
  // Stricter than the apiserver, for a tool that shares one machine among clusters.
  if (opts.cluster) errs.push(...validateServiceAddresses(svc, opts.cluster));
  return errs;
}
