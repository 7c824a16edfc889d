/**
 * knet's rules for a Service's externalIPs, loadBalancerIP and MetalLB annotation: no address of
 * any cluster's block on this machine (this one's included, but its LoadBalancer pool for a
 * loadBalancerIP), none of the machine's own loopback addresses, nothing off loopback without
 * `knet up --allow-external-ips`, and no sloppy spelling of an address.
 */
import { describe, expect, it } from 'vitest';
import { clusterConfig } from '../../../dataplane/base/cluster-config.js';
import { validateObject } from '../../../dataplane/base/model/validate/index.js';
import { serviceAddressProblem } from '../../../dataplane/base/model/validate/service-addresses.js';
import { service } from './manifests.js';

const DEFAULT = clusterConfig(0);
const C3 = clusterConfig(3); // pods 127.118.0.0/16; nodes, services, LB pool in 127.119.0.0/16
const OPEN = { ...DEFAULT, allowExternalIPs: true };

const NOT_LOOPBACK =
  'must be a loopback address (127.0.0.0/8): this cluster serves Services on this machine only; start it with `knet up --allow-external-ips` to let them listen on other addresses';
const HOST =
  "may not be in 127.0.0.0/16: the machine's own loopback addresses (localhost, where every cluster's state store listens) are not the cluster's to take";
const otherBlock = (cidr: string, block: number) =>
  `may not be in ${cidr}, ${block === 0 ? 'address block 0 (the default cluster)' : `address block ${block}`} of another knet cluster on this machine: it would take that cluster's traffic`;

const lines = (spec: Record<string, unknown>, cluster = DEFAULT, metadata: Record<string, unknown> = {}) =>
  validateObject(service({ ports: [{ port: 80 }], ...spec }, metadata), { cluster }).map((e) => e.message);

describe('serviceAddressProblem', () => {
  // [what, address, role, cluster, problem or undefined]
  const rows: Array<[string, string, 'externalIP' | 'loadBalancerIP', typeof DEFAULT, string | undefined]> = [
    ['loopback outside every block', '127.60.0.5', 'externalIP', DEFAULT, undefined],
    ['this cluster: a ClusterIP', '127.96.0.5', 'externalIP', DEFAULT, "may not be in this cluster's service range (127.96.0.0/12)"],
    ['this cluster: a node', '127.18.0.2', 'externalIP', DEFAULT, "may not be in this cluster's node range (127.18.0.0/24)"],
    ['this cluster: a pod', '127.244.1.7', 'externalIP', DEFAULT, "may not be in this cluster's pod range (127.244.0.0/16)"],
    ['this cluster: the rest of its block', '127.18.7.1', 'externalIP', DEFAULT, "may not be in this cluster's address block (127.18.0.0/16)"],
    ['this cluster: its LB pool, as an externalIP', '127.18.255.201', 'externalIP', DEFAULT,
      "may not be in this cluster's LoadBalancer pool (127.18.255.200-127.18.255.250): a Service of type LoadBalancer gets those addresses"],
    ['this cluster: its LB pool, as a loadBalancerIP', '127.18.255.201', 'loadBalancerIP', DEFAULT, undefined],
    ['a block-3 cluster: its LB pool', '127.119.255.201', 'loadBalancerIP', C3, undefined],
    ['another cluster: its ClusterIP', '127.119.96.20', 'externalIP', DEFAULT, otherBlock('127.119.0.0/16', 3)],
    ['another cluster: its pods', '127.118.1.2', 'externalIP', DEFAULT, otherBlock('127.118.0.0/16', 3)],
    ['another cluster: its LB pool, as a loadBalancerIP', '127.119.255.200', 'loadBalancerIP', DEFAULT, otherBlock('127.119.0.0/16', 3)],
    ['the default cluster, from block 3', '127.96.0.10', 'externalIP', C3, otherBlock('127.96.0.0/12', 0)],
    ['the default cluster LB pool, from block 3', '127.18.255.200', 'loadBalancerIP', C3, otherBlock('127.18.0.0/16', 0)],
    ['the last block', '127.243.96.1', 'externalIP', DEFAULT, otherBlock('127.243.0.0/16', 65)],
    ['localhost', '127.0.0.1', 'externalIP', DEFAULT, HOST],
    ['the system resolver', '127.0.0.53', 'loadBalancerIP', OPEN, HOST],
    ['::1', '::1', 'externalIP', OPEN, "may not be ::1: the machine's own loopback address is not the cluster's to take"],
    ['::1 spelt long', '0:0:0:0:0:0:0:1', 'externalIP', OPEN, "may not be ::1: the machine's own loopback address is not the cluster's to take"],
    ['off loopback', '192.0.2.10', 'externalIP', DEFAULT, NOT_LOOPBACK],
    ['off loopback, IPv6', '2001:db8::10', 'loadBalancerIP', DEFAULT, NOT_LOOPBACK],
    ['off loopback with --allow-external-ips', '192.0.2.10', 'externalIP', OPEN, undefined],
    ['IPv6 with --allow-external-ips', '2001:db8::10', 'externalIP', OPEN, undefined],
    ['opting in does not open other clusters', '127.119.96.20', 'externalIP', OPEN, otherBlock('127.119.0.0/16', 3)],
    ['leading zeros (the OS reads 010 as octal)', '127.010.0.1', 'externalIP', DEFAULT, 'must not have leading 0s'],
    ['IPv4-mapped IPv6', '::ffff:127.96.0.5', 'externalIP', OPEN, 'must not be an IPv4-mapped IPv6 address'],
    ['not an IP', 'web', 'loadBalancerIP', DEFAULT, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'],
  ];
  it.each(rows)('%s: %s', (_what, ip, role, cluster, problem) => {
    expect(serviceAddressProblem(ip, role, cluster)).toBe(problem);
  });

  it('a custom address plan: its own ranges, not only its block', () => {
    const custom = { ...clusterConfig(0), nodeAddressBase: '127.51.0.1', podPrefix: '127.51', serviceCIDR: '127.51.96.0/20', loadBalancerPool: { first: '127.51.255.200', last: '127.51.255.250' } };
    expect(serviceAddressProblem('127.51.96.3', 'externalIP', custom)).toBe("may not be in this cluster's service range (127.51.96.0/20)");
    expect(serviceAddressProblem('127.51.255.201', 'loadBalancerIP', custom)).toBeUndefined();
    expect(serviceAddressProblem('127.52.0.1', 'externalIP', custom)).toBeUndefined();
  });
});

describe('validateObject with the cluster: kubectl-style field errors', () => {
  it('names the field, the value and the reason for each address', () => {
    expect(lines({ externalIPs: ['127.60.0.1', '127.119.96.20', '192.0.2.10'] })).toEqual([
      `spec.externalIPs[1]: Invalid value: "127.119.96.20": ${otherBlock('127.119.0.0/16', 3)}`,
      `spec.externalIPs[2]: Invalid value: "192.0.2.10": ${NOT_LOOPBACK}`,
    ]);
  });

  it('checks loadBalancerIP and the MetalLB annotation', () => {
    expect(lines({ type: 'LoadBalancer', loadBalancerIP: '127.96.0.9' })).toEqual([
      `spec.loadBalancerIP: Invalid value: "127.96.0.9": may not be in this cluster's service range (127.96.0.0/12)`,
    ]);
    expect(lines({ type: 'LoadBalancer', loadBalancerIP: '127.18.255.210' })).toEqual([]);
    expect(lines({ type: 'LoadBalancer' }, DEFAULT, { annotations: { 'metallb.universe.tf/loadBalancerIPs': '127.18.255.210, 10.1.2.3' } })).toEqual([
      `metadata.annotations[metallb.universe.tf/loadBalancerIPs]: Invalid value: "10.1.2.3": ${NOT_LOOPBACK}`,
    ]);
  });

  it('reports an address the apiserver rejects once, with the apiserver message', () => {
    expect(lines({ externalIPs: ['0.0.0.0'] })).toEqual(['spec.externalIPs[0]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)']);
  });

  it('without the cluster it is the apiserver alone, which takes any address', () => {
    expect(validateObject(service({ ports: [{ port: 80 }], externalIPs: ['127.96.0.5', '192.0.2.10'] }))).toEqual([]);
  });

  it('checks updates too', async () => {
    const { validateUpdate } = await import('../../../dataplane/base/model/validate/index.js');
    const old = service({ ports: [{ port: 80 }], clusterIP: '127.96.0.20', clusterIPs: ['127.96.0.20'] });
    const next = service({ ports: [{ port: 80 }], clusterIP: '127.96.0.20', clusterIPs: ['127.96.0.20'], externalIPs: ['127.96.0.1'] });
    expect(validateUpdate(old, next, { cluster: DEFAULT }).map((e) => e.message)).toEqual([
      `spec.externalIPs[0]: Invalid value: "127.96.0.1": may not be in this cluster's service range (127.96.0.0/12)`,
    ]);
  });
});
