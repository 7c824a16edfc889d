import { describe, expect, it } from 'vitest';
import { classifySource } from '../../../proxy/traffic-source.js';
import { upstreamSourceAddress } from '../../../proxy/snat.js';
import { NODES } from './fixtures.js';

describe('classifySource', () => {
  it.each([
    ['127.51.1.7', { kind: 'pod', node: 'node-1' }],
    ['127.51.2.254', { kind: 'pod', node: 'node-2' }],
    ['127.51.0.2', { kind: 'node', node: 'node-1' }],
    ['127.51.0.3', { kind: 'node', node: 'node-2' }],
    ['127.0.0.1', { kind: 'external' }],
    ['127.51.3.1', { kind: 'external' }],
    ['127.51.200.1', { kind: 'external' }],
    ['not-an-ip', { kind: 'external' }],
  ])('%s', (ip, want) => {
    expect(classifySource(ip, NODES)).toEqual(want);
  });
});

describe('upstreamSourceAddress (SNAT)', () => {
  it.each([
    ['ClusterIP keeps the client', 'Cluster', 'clusterIP', '127.51.200.1'],
    ['ClusterIP of a Local service keeps the client', 'Local', 'clusterIP', '127.51.200.1'],
    ['NodePort Cluster → node IP', 'Cluster', 'nodePort', '127.51.0.2'],
    ['LoadBalancer Cluster → node IP', 'Cluster', 'loadBalancer', '127.51.0.2'],
    ['externalIP Cluster → node IP', 'Cluster', 'externalIP', '127.51.0.2'],
    ['NodePort Local keeps the client', 'Local', 'nodePort', '127.51.200.1'],
    ['LoadBalancer Local keeps the client', 'Local', 'loadBalancer', '127.51.200.1'],
  ] as const)('%s', (_n, etp, role, want) => {
    expect(upstreamSourceAddress({ externalTrafficPolicy: etp }, role, '127.51.200.1', '127.51.0.2')).toBe(want);
  });
});
