// NetworkPolicy validation and defaulting as the apiserver does them (pkg/apis/networking).
import { describe, expect, it } from 'vitest';
import { messages } from './manifests.js';
import { applyDefaults } from '../../../dataplane/base/model/defaults/index.js';
import type { KObject } from '../../../dataplane/base/model/object.js';

const policy = (spec: Record<string, unknown>): unknown => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'x' }, spec });

describe('NetworkPolicy validation', () => {
  it('accepts the documentation’s example policy', () => {
    expect(
      messages(
        policy({
          podSelector: { matchLabels: { role: 'db' } },
          policyTypes: ['Ingress', 'Egress'],
          ingress: [
            {
              from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }, { namespaceSelector: { matchLabels: { project: 'myproject' } } }, { podSelector: { matchLabels: { role: 'frontend' } } }],
              ports: [{ protocol: 'TCP', port: 6379 }],
            },
          ],
          egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 32000, endPort: 32768 }] }],
        }),
      ),
    ).toEqual([]);
  });

  it.each([
    [{ podSelector: {}, ingress: [{ from: [{}] }] }, 'spec.ingress[0].from[0]: Required value: must specify a peer'],
    [{ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }, 'spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer'],
    [{ podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/16'] } }] }] }, 'spec.egress[0].to[0].ipBlock.except[0]: Invalid value: "11.0.0.0/16": must be a strict subset of `cidr`'],
    [{ podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/8'] } }] }] }, 'spec.egress[0].to[0].ipBlock.except[0]: Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`'],
    [{ podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0/8' } }] }] }, 'spec.egress[0].to[0].ipBlock.cidr: Invalid value: "10.0.0/8": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'],
    [{ podSelector: {}, ingress: [{ ports: [{ port: 90, endPort: 80 }] }] }, 'spec.ingress[0].ports[0].endPort: Invalid value: 80: must be greater than or equal to `port`'],
    [{ podSelector: {}, ingress: [{ ports: [{ port: 'http', endPort: 80 }] }] }, 'spec.ingress[0].ports[0].endPort: Invalid value: 80: may not be specified when `port` is non-numeric'],
    [{ podSelector: {}, ingress: [{ ports: [{ endPort: 80 }] }] }, 'spec.ingress[0].ports[0].endPort: Invalid value: 80: may not be specified when `port` is not specified'],
    [{ podSelector: {}, ingress: [{ ports: [{ port: 80, protocol: 'ICMP' }] }] }, 'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"'],
    [{ podSelector: {}, policyTypes: ['Ingress', 'Sideways'] }, 'spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"'],
  ])('%j → %s', (spec, message) => {
    expect(messages(policy(spec))).toContain(message);
  });
});

describe('NetworkPolicy defaults', () => {
  const defaulted = (spec: Record<string, unknown>) => (applyDefaults(policy(spec) as KObject).spec as Record<string, unknown>);
  it('infers policyTypes: Ingress always, Egress when there are egress rules', () => {
    expect(defaulted({ podSelector: {} }).policyTypes).toEqual(['Ingress']);
    expect(defaulted({ podSelector: {}, egress: [{}] }).policyTypes).toEqual(['Ingress', 'Egress']);
    expect(defaulted({ podSelector: {}, policyTypes: ['Egress'] }).policyTypes).toEqual(['Egress']);
  });
  it('defaults port protocols to TCP and podSelector to {}', () => {
    expect(defaulted({ ingress: [{ ports: [{ port: 80 }] }] })).toEqual({ podSelector: {}, ingress: [{ ports: [{ port: 80, protocol: 'TCP' }] }], policyTypes: ['Ingress'] });
  });
});
