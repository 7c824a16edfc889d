/**
 * The host-port plan (dataplane/node/host-ports.ts): which forwards a node has, from its pods'
 * port mappings as the kubelet, containerd and CNI portmap make them; and the source address a
 * pod sees (portmap's masquerade rule).
 */
import { describe, expect, it } from 'vitest';
import type { Container, ContainerPort, Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import { hostPortSource, planHostPorts, portMappings, type HostPortPod } from '../../../dataplane/node/host-ports.js';

const node = { ip: '127.18.0.2', podCIDR: '127.244.1.0/24' };

function pod(name: string, containers: Array<{ name?: string; ports: ContainerPort[] }>, extra: Partial<PodSpec> = {}): Pod {
  return {
    metadata: { namespace: 'default', name, uid: `uid-${name}` },
    spec: { ...extra, containers: containers.map((c, i) => ({ name: c.name ?? `c${i}`, image: 'agnhost', ports: c.ports }) as Container) },
  };
}

const running = (p: Pod, ip = '127.244.1.5'): HostPortPod => ({ key: `default/${p.metadata!.name}`, pod: p, podIP: ip });

describe('portMappings: what the runtime is handed', () => {
  it.each<[string, Pod, Array<[string, number, number, string]>]>([
    ['a hostPort, TCP by default', pod('a', [{ ports: [{ containerPort: 8080, hostPort: 8081 }] }]), [['TCP', 8081, 8080, '']]],
    ['no hostPort: no mapping (containerd keeps hostPort > 0)', pod('a', [{ ports: [{ containerPort: 8080 }, { containerPort: 9090, hostPort: 0 }] }]), []],
    ['UDP and a hostIP', pod('a', [{ ports: [{ containerPort: 53, hostPort: 5353, protocol: 'UDP', hostIP: '127.18.0.2' }] }]), [['UDP', 5353, 53, '127.18.0.2']]],
    [
      'a port name seen twice in one container: the first (MakePortMappings)',
      pod('a', [{ ports: [{ name: 'web', containerPort: 8080, hostPort: 8081 }, { name: 'web', containerPort: 8090, hostPort: 8091 }] }]),
      [['TCP', 8081, 8080, '']],
    ],
    [
      'the same name in two containers: both',
      pod('a', [{ ports: [{ name: 'web', containerPort: 8080, hostPort: 8081 }] }, { ports: [{ name: 'web', containerPort: 8090, hostPort: 8091 }] }]),
      [['TCP', 8081, 8080, ''], ['TCP', 8091, 8090, '']],
    ],
    ['a hostNetwork pod: none (no CNI is called for it)', pod('a', [{ ports: [{ containerPort: 8080, hostPort: 8080 }] }], { hostNetwork: true }), []],
  ])('%s', (_name, p, want) => {
    expect(portMappings(p).map((m) => [m.protocol, m.hostPort, m.containerPort, m.hostIP])).toEqual(want);
  });

  it('init containers have none (generatePodSandboxConfig reads spec.containers only)', () => {
    const p = pod('a', [{ ports: [] }]);
    p.spec!.initContainers = [{ name: 'init', image: 'busybox', ports: [{ containerPort: 8080, hostPort: 8081 }] }];
    expect(portMappings(p)).toEqual([]);
  });
});

describe('planHostPorts', () => {
  it('forwards <node IP>:<hostPort> to <pod IP>:<containerPort>, TCP and UDP apart', () => {
    const p = pod('web', [{ name: 'agnhost', ports: [{ containerPort: 8080, hostPort: 8081 }, { containerPort: 8082, hostPort: 8081, protocol: 'UDP' }] }]);
    expect(planHostPorts([running(p)], node)).toEqual({
      forwards: [
        { id: 'TCP/127.18.0.2:8081', protocol: 'TCP', hostIP: '127.18.0.2', hostPort: 8081, pod: 'default/web', uid: 'uid-web', podIP: '127.244.1.5', containerPort: 8080, container: 'agnhost' },
        { id: 'UDP/127.18.0.2:8081', protocol: 'UDP', hostIP: '127.18.0.2', hostPort: 8081, pod: 'default/web', uid: 'uid-web', podIP: '127.244.1.5', containerPort: 8082, container: 'agnhost' },
      ],
      problems: [],
    });
  });

  it.each([
    ['', true],
    ['0.0.0.0', true],
    ['127.18.0.2', true],
    ['127.18.0.3', false],
    ['127.0.0.1', false],
    ['10.0.0.1', false],
    ['::', false],
  ])('hostIP %j → forwarded on the node IP: %s', (hostIP, forwarded) => {
    const plan = planHostPorts([running(pod('a', [{ ports: [{ containerPort: 80, hostPort: 8081, hostIP }] }]))], node);
    expect(plan.forwards.map((f) => f.id)).toEqual(forwarded ? ['TCP/127.18.0.2:8081'] : []);
    expect(plan.problems.length).toBe(forwarded ? 0 : 1);
  });

  it("says why another address is not bound, naming the node's own", () => {
    const [problem] = planHostPorts([running(pod('a', [{ ports: [{ containerPort: 80, hostPort: 8081, hostIP: '127.18.0.3' }] }]))], node).problems;
    expect(problem).toEqual({
      pod: 'default/a',
      uid: 'uid-a',
      mapping: 'TCP/127.18.0.3:8081',
      message: "host port 8081/TCP on hostIP 127.18.0.3 is not forwarded: 127.18.0.3 is not this node's address (127.18.0.2); knet listens only on its node's own address (leave hostIP empty for the node IP)",
    });
  });

  it('SCTP is reported, not forwarded', () => {
    const plan = planHostPorts([running(pod('a', [{ ports: [{ containerPort: 80, hostPort: 8081, protocol: 'SCTP' }] }]))], node);
    expect(plan.forwards).toEqual([]);
    expect(plan.problems[0]!.message).toBe('host port 8081/SCTP is not forwarded: knet has no SCTP');
  });

  it('two pods on one host port: the one started first keeps it, the other is reported', () => {
    const first = pod('first', [{ ports: [{ containerPort: 80, hostPort: 8081 }] }]);
    const second = pod('second', [{ ports: [{ containerPort: 90, hostPort: 8081, hostIP: '0.0.0.0' }] }]);
    const plan = planHostPorts([running(first, '127.244.1.5'), running(second, '127.244.1.6')], node);
    expect(plan.forwards.map((f) => [f.id, f.pod])).toEqual([['TCP/127.18.0.2:8081', 'default/first']]);
    expect(plan.problems).toEqual([
      { pod: 'default/second', uid: 'uid-second', mapping: 'TCP/0.0.0.0:8081', message: 'host port 8081/TCP on 127.18.0.2 is not forwarded: it is already forwarded to default/first (container port 80)' },
    ]);
    // The same port for the other protocol is another forward.
    const udp = pod('udp', [{ ports: [{ containerPort: 90, hostPort: 8081, protocol: 'UDP' }] }]);
    expect(planHostPorts([running(first), running(udp)], node).problems).toEqual([]);
  });
});

describe('hostPortSource: what the pod sees', () => {
  it.each([
    ['a pod of this node (hairpin): masqueraded to the node IP', '127.244.1.7', '127.18.0.2'],
    ['the pod itself', '127.244.1.5', '127.18.0.2'],
    ['a pod of another node: kept', '127.244.2.3', '127.244.2.3'],
    ['outside the cluster (127.0.0.1 is not the node here): kept', '127.0.0.1', '127.0.0.1'],
    ['another node: kept', '127.18.0.3', '127.18.0.3'],
    ['the node itself: kept (its own address)', '127.18.0.2', '127.18.0.2'],
  ])('%s', (_name, client, seen) => {
    expect(hostPortSource(client, node)).toBe(seen);
  });
});
