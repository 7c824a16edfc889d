// `knet describe netpol` in kubectl's layout: the documentation's example, a deny-all, AND vs OR peers, ranges.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { describeNetworkPolicy } from '../../../dataplane/cli/commands/describe-netpol.js';
import { applyDefaults } from '../../../dataplane/base/model/defaults/index.js';
import type { KObject } from '../../../dataplane/base/model/object.js';

const created = '2024-01-02T03:04:05Z';
const np = (o: object) => applyDefaults({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', ...o } as KObject) as NetworkPolicy;

describe('describeNetworkPolicy', () => {
  it("prints the documentation's example as kubectl does", () => {
    const doc = parse(readFileSync('examples/netpol/policy.yaml', 'utf8')) as KObject;
    const text = describeNetworkPolicy(np({ ...doc, metadata: { ...doc.metadata, creationTimestamp: created } }));
    expect(text).toBe(
      [
        'Name:         test-network-policy',
        'Namespace:    default',
        'Created on:   2024-01-02 03:04:05 +0000 UTC',
        'Labels:       <none>',
        'Annotations:  <none>',
        'Spec:',
        '  PodSelector:     role=db',
        '  Allowing ingress traffic:',
        '    To Port: 6379/TCP',
        '    From:',
        '      IPBlock:',
        '        CIDR: 172.17.0.0/16',
        '        Except: 172.17.1.0/24',
        '    From:',
        '      NamespaceSelector: project=myproject',
        '    From:',
        '      PodSelector: role=frontend',
        '  Allowing egress traffic:',
        '    To Port: 5978/TCP',
        '    To:',
        '      IPBlock:',
        '        CIDR: 10.0.0.0/24',
        '        Except: ',
        '  Policy Types: Ingress, Egress',
      ].join('\n'),
    );
  });

  it('says which direction is isolated, not affected, ANDed or ORed', () => {
    const text = describeNetworkPolicy(
      np({
        metadata: { namespace: 'x', name: 'p', creationTimestamp: created },
        spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } }, podSelector: { matchLabels: { pod: 'b' } } }] }, { ports: [{ port: 8080, endPort: 8081 }, { port: 'http', protocol: 'UDP' }] }] },
      }),
    );
    expect(text.split('\n').slice(6)).toEqual([
      '  PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)',
      '  Allowing ingress traffic:',
      '    To Port: <any> (traffic allowed to all ports)',
      '    From:',
      '      NamespaceSelector: ns=y',
      '      PodSelector: pod=b',
      '    ----------',
      '    To Port: 8080-8081/TCP',
      '    To Port: http/UDP',
      '    From: <any> (traffic not restricted by source)',
      '  Not affecting egress traffic',
      '  Policy Types: Ingress',
    ]);
    const denyAll = describeNetworkPolicy(np({ metadata: { namespace: 'x', name: 'd', creationTimestamp: created }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } }));
    expect(denyAll.split('\n').slice(7)).toEqual([
      '  Allowing ingress traffic:',
      '    <none> (Selected pods are isolated for ingress connectivity)',
      '  Allowing egress traffic:',
      '    <none> (Selected pods are isolated for egress connectivity)',
      '  Policy Types: Ingress, Egress',
    ]);
  });
});
