import { describe, expect, it } from 'vitest';
import { healthyConditions, nodeObject, nodeResources, nodeStatus } from '../../../dataplane/node/node-object.js';
import { clusterConfig } from '../../../dataplane/base/cluster-config.js';

describe('the Node a node agent registers, as a kubelet reports it', () => {
  it("the kubelet's four conditions in its order, with its reasons", () => {
    expect(healthyConditions('2026-01-01T00:00:00Z').map((c) => [c.type, c.status, c.reason])).toEqual([
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
      ['Ready', 'True', 'KubeletReady'],
    ]);
  });

  it('capacity and allocatable in Ki with hugepages and ephemeral-storage; allocatable memory less the 100Mi eviction threshold', () => {
    const r = nodeResources(253, { cpus: 4, memoryBytes: 8 * 2 ** 30, diskBytes: 100 * 2 ** 30 });
    expect(r.capacity).toEqual({ cpu: '4', 'ephemeral-storage': '104857600Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '8388608Ki', pods: '253' });
    expect(r.allocatable).toEqual({ ...r.capacity, memory: '8286208Ki' });
  });

  it('nodeInfo says the version the apiserver says, with the machine identity; labels and annotations as the kubelet sets them', () => {
    const config = clusterConfig();
    const status = nodeStatus(config, 'node-1', 1)!;
    expect(status.nodeInfo).toMatchObject({ kubeletVersion: 'v1.32.4+knet', kubeProxyVersion: 'v1.32.4+knet', operatingSystem: 'linux', containerRuntimeVersion: 'knet://0.1.0' });
    expect(status.nodeInfo!.kernelVersion).not.toMatch(/^v\d+\.\d+\.\d+$/); // the kernel's, not Node.js's version
    expect(status.nodeInfo!.osImage).not.toBe('');
    const node = nodeObject(config, 'node-1', 1);
    expect(node.metadata?.labels).toMatchObject({ 'beta.kubernetes.io/arch': expect.any(String), 'kubernetes.io/hostname': 'node-1' });
    expect(node.metadata?.annotations).toEqual({ 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' });
  });
});
