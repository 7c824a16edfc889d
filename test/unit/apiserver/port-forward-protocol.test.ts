/**
 * The pure rules of pods/portforward and services|pods/proxy: which SPDY streams the kubelet
 * takes, which WebSocket subprotocol and `?ports=` it answers, and where the proxy sends a
 * request (kube-apiserver's ResourceLocation), with the apiserver's errors.
 */
import { describe, expect, it } from 'vitest';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { invalidStreamHeaders } from '../../../dataplane/apiserver/portforward/spdy-port-forward.js';
import { parsePortsQuery, websocketPortForwardProtocol } from '../../../dataplane/apiserver/portforward/websocket-port-forward.js';
import { podLocation, serviceLocation, splitSchemeNamePort } from '../../../dataplane/apiserver/proxy-location.js';
import { ApiError } from '../../../dataplane/apiserver/status.js';

describe("a SPDY stream's headers (the kubelet's httpStreamReceived)", () => {
  it.each<[Record<string, string>, string | undefined]>([
    [{ port: '80', streamtype: 'data', requestid: '0' }, undefined],
    [{ port: '80', streamtype: 'error' }, undefined],
    [{ streamtype: 'data' }, '"port" header is required'],
    [{ port: 'http', streamtype: 'data' }, 'unable to parse "http" as a port'],
    [{ port: '70000', streamtype: 'data' }, 'unable to parse "70000" as a port'],
    [{ port: '0', streamtype: 'data' }, 'port "0" must be > 0'],
    [{ port: '80' }, '"streamType" header is required'],
    [{ port: '80', streamtype: 'resize' }, 'invalid stream type "resize"'],
  ])('%j → %s', (headers, want) => {
    expect(invalidStreamHeaders(headers)).toBe(want);
  });
});

describe('WebSocket port-forward negotiation', () => {
  it.each<[string[], string | undefined]>([
    [['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io'], 'v4.channel.k8s.io'],
    [['v4.base64.channel.k8s.io', 'v4.channel.k8s.io'], 'v4.base64.channel.k8s.io'],
    [[], ''],
    [['v5.channel.k8s.io', 'channel.k8s.io'], undefined],
  ])('offered %j → %j', (offered, want) => {
    expect(websocketPortForwardProtocol(offered)).toBe(want);
  });

  it.each<[string[], number[] | string]>([
    [['80'], [80]],
    [['80', '8080'], [80, 8080]],
    [['80,8080'], [80, 8080]],
    [[], 'query parameter "ports" is required'],
    [[''], 'query parameter "ports" cannot be empty'],
    [['http'], 'unable to parse "http" as a port'],
    [['0'], 'port "0" must be > 0'],
  ])('ports=%j → %j', (values, want) => {
    expect(parsePortsQuery(values)).toEqual(want);
  });
});

const status = (fn: () => unknown): { code: number; message?: string } => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return { code: err.code, message: err.status.message };
    throw err;
  }
  throw new Error('no error');
};

describe('proxy locations', () => {
  it.each<[string, ReturnType<typeof splitSchemeNamePort>]>([
    ['web', { scheme: '', name: 'web', port: '' }],
    ['web:80', { scheme: '', name: 'web', port: '80' }],
    ['https:web:443', { scheme: 'https', name: 'web', port: '443' }],
    ['ftp:web:21', undefined],
    [':80', undefined],
    ['a:b:c:d', undefined],
  ])('%s', (id, want) => {
    expect(splitSchemeNamePort(id)).toEqual(want);
  });

  const web: Service = { metadata: { name: 'web' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'admin', port: 81 }] } };
  const slice = (ready: boolean[], ports: Array<{ name: string; port: number }>): EndpointSlice => ({
    addressType: 'IPv4',
    metadata: { name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
    ports,
    endpoints: ready.map((r, i) => ({ addresses: [`127.244.1.${i + 2}`], conditions: { ready: r } })),
  });
  const lookup = (slices: EndpointSlice[]) => ({ service: (n: string) => (n === 'web' ? web : undefined), slices: () => slices });

  it('a service port by number or name reaches a ready endpoint on its target port', () => {
    const slices = [slice([false, true], [{ name: 'http', port: 8080 }, { name: 'admin', port: 81 }])];
    expect(serviceLocation('web:80', lookup(slices), () => 0)).toEqual({ scheme: 'http', host: '127.244.1.3', port: 8080 });
    expect(serviceLocation('web:http', lookup(slices), () => 0)).toEqual({ scheme: 'http', host: '127.244.1.3', port: 8080 });
    expect(serviceLocation('https:web:admin', lookup(slices), () => 0)).toEqual({ scheme: 'https', host: '127.244.1.3', port: 81 });
  });

  it.each<[string, EndpointSlice[], number, string]>([
    ['nope:80', [], 404, 'services "nope" not found'],
    ['web:82', [], 503, 'no service port 82 found for service "web"'],
    ['web:80', [], 503, 'no endpoints available for service "web:80"'],
    ['web:80', [slice([false], [{ name: 'http', port: 8080 }])], 503, 'no endpoints available for service "web:80"'],
    // No port names the unnamed port, which this service does not have.
    ['web', [slice([true], [{ name: 'http', port: 8080 }])], 503, 'no endpoints available for service "web"'],
    ['x:web:80', [], 400, 'invalid service request "x:web:80"'],
  ])('%s → %i %s', (id, slices, code, message) => {
    expect(status(() => serviceLocation(id, lookup(slices)))).toEqual({ code, message });
  });

  const pod: Pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x', ports: [{ containerPort: 8080 }] }] }, status: { podIP: '127.244.1.9' } };
  const pods = { pod: (n: string) => (n === 'p' ? pod : n === 'pending' ? { ...pod, status: {} } : undefined) };

  it('a pod: its IP, the given port or its first declared one', () => {
    expect(podLocation('p:9000', pods)).toEqual({ scheme: 'http', host: '127.244.1.9', port: 9000 });
    expect(podLocation('p', pods)).toEqual({ scheme: 'http', host: '127.244.1.9', port: 8080 });
    expect(status(() => podLocation('q', pods))).toEqual({ code: 404, message: 'pods "q" not found' });
    expect(status(() => podLocation('pending:80', pods))).toEqual({ code: 503, message: 'error trying to reach service: pod "pending" has no IP address' });
    expect(status(() => podLocation('p:http', pods)).code).toBe(400);
  });
});
