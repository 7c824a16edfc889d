/**
 * Endpoints (core/v1) and EndpointSlice (discovery/v1) validation. Addresses must be IPs of the
 * slice's family; knet accepts loopback addresses, since all of its addresses are loopback
 * (see specialIPErrors).
 */
import type { EndpointAddress, EndpointPort as CoreEndpointPort, Endpoints } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { child, duplicate, index, invalid, notSupported, required, tooMany, type FieldError } from './field-error.js';
import {
  IP_MSG,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidPortNum,
  nameIsDNSSubdomain,
  parseIPFamily,
  specialIPErrors,
} from './formats.js';
import { validateLabels, validateObjectMeta } from './object-meta.js';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];

function validateAddress(addr: EndpointAddress, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const ipPath = child(path, 'ip');
  const ip = addr.ip ?? '';
  if (parseIPFamily(ip) === 0) errs.push(invalid(ipPath, ip, IP_MSG));
  if (addr.hostname) for (const m of isDNS1123Label(addr.hostname)) errs.push(invalid(child(path, 'hostname'), addr.hostname, m));
  if (addr.nodeName !== undefined) {
    for (const m of nameIsDNSSubdomain(addr.nodeName, false)) errs.push(invalid(child(path, 'nodeName'), addr.nodeName, m));
  }
  for (const m of specialIPErrors(ip)) errs.push(invalid(ipPath, ip, m));
  return errs;
}

function validateCorePort(port: CoreEndpointPort, requireName: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !port.name) errs.push(required(child(path, 'name')));
  else if (port.name) for (const m of isDNS1123Label(port.name)) errs.push(invalid(child(path, 'name'), port.name, m));
  for (const m of isValidPortNum(port.port ?? 0)) errs.push(invalid(child(path, 'port'), port.port ?? 0, m));
  if (!port.protocol) errs.push(required(child(path, 'protocol')));
  else if (!PROTOCOLS.includes(port.protocol)) errs.push(notSupported(child(path, 'protocol'), port.protocol, PROTOCOLS));
  if (port.appProtocol !== undefined) {
    for (const m of isQualifiedName(port.appProtocol)) errs.push(invalid(child(path, 'appProtocol'), port.appProtocol, m));
  }
  return errs;
}

export function validateEndpoints(ep: Endpoints): FieldError[] {
  const errs = validateObjectMeta(ep.metadata, true, nameIsDNSSubdomain);
  (ep.subsets ?? []).forEach((ss, i) => {
    const p = index('subsets', i);
    if ((ss.addresses ?? []).length === 0 && (ss.notReadyAddresses ?? []).length === 0) {
      errs.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    }
    (ss.addresses ?? []).forEach((a, j) => errs.push(...validateAddress(a, index(child(p, 'addresses'), j))));
    (ss.notReadyAddresses ?? []).forEach((a, j) => errs.push(...validateAddress(a, index(child(p, 'notReadyAddresses'), j))));
    const ports = ss.ports ?? [];
    ports.forEach((port, j) => errs.push(...validateCorePort(port, ports.length > 1, index(child(p, 'ports'), j))));
  });
  return errs;
}

/** IsFullyQualifiedDomainName: a DNS subdomain with at least two labels. */
function fqdnErrors(name: string, path: string): FieldError[] {
  if (name === '') return [required(path)];
  const n = name.replace(/\.$/, '');
  const errs = isDNS1123Subdomain(n).map((m) => invalid(path, n, m));
  if (n.split('.').length < 2) errs.push(invalid(path, n, 'should be a domain with at least two segments separated by dots'));
  return errs;
}

function validateSliceAddress(addressType: string, address: string, path: string): FieldError[] {
  switch (addressType) {
    case 'IPv4':
      if (parseIPFamily(address) !== 4) return [invalid(path, address, 'must be a valid IPv4 address')];
      return specialIPErrors(address).map((m) => invalid(path, address, m));
    case 'IPv6':
      if (parseIPFamily(address) !== 6) return [invalid(path, address, 'must be a valid IPv6 address')];
      return specialIPErrors(address).map((m) => invalid(path, address, m));
    case 'FQDN':
      return fqdnErrors(address, path);
    default:
      return [];
  }
}

export function validateEndpointSlice(slice: EndpointSlice): FieldError[] {
  const errs = validateObjectMeta(slice.metadata, true, nameIsDNSSubdomain);
  const addressType = slice.addressType ?? '';
  const endpoints = slice.endpoints ?? [];
  if (endpoints.length > 1000) {
    errs.push(tooMany('endpoints', endpoints.length, 1000));
  } else {
    endpoints.forEach((ep, i) => {
      const p = index('endpoints', i);
      const ap = child(p, 'addresses');
      const addrs = ep.addresses ?? [];
      if (addrs.length === 0) errs.push(required(ap, 'must contain at least 1 address'));
      else if (addrs.length > 100) errs.push(tooMany(ap, addrs.length, 100));
      addrs.forEach((a, j) => errs.push(...validateSliceAddress(addressType, a, index(ap, j))));
      if (ep.nodeName !== undefined) {
        for (const m of nameIsDNSSubdomain(ep.nodeName, false)) errs.push(invalid(child(p, 'nodeName'), ep.nodeName, m));
      }
      errs.push(...validateLabels(ep.deprecatedTopology, child(p, 'deprecatedTopology')));
      if (ep.hostname !== undefined) {
        for (const m of isDNS1123Label(ep.hostname)) errs.push(invalid(child(p, 'hostname'), ep.hostname, m));
      }
    });
  }
  const ports = slice.ports ?? [];
  if (ports.length > 20000) {
    errs.push(tooMany('ports', ports.length, 20000));
  } else {
    const names = new Set<string>();
    ports.forEach((port, i) => {
      const p = index('ports', i);
      const name = port.name ?? '';
      if (name !== '') for (const m of isDNS1123Label(name)) errs.push(invalid(child(p, 'name'), name, m));
      if (names.has(name)) errs.push(duplicate(child(p, 'name'), name));
      else names.add(name);
      if (!port.protocol) errs.push(required(child(p, 'protocol')));
      else if (!PROTOCOLS.includes(port.protocol)) errs.push(notSupported(child(p, 'protocol'), port.protocol, PROTOCOLS));
      if (port.appProtocol !== undefined) {
        for (const m of isQualifiedName(port.appProtocol)) errs.push(invalid(child(p, 'appProtocol'), port.appProtocol, m));
      }
    });
  }
  // Checked on create and update alike (ValidateEndpointSliceCreate; updates keep it immutable).
  if (addressType === '') errs.push(required('addressType'));
  else if (!ADDRESS_TYPES.includes(addressType)) errs.push(notSupported('addressType', addressType, ADDRESS_TYPES));
  return errs;
}
