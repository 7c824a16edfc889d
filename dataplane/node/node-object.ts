/**
 * The Node object a node agent registers and keeps Ready, as the kubelet does.
 */
import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';
import { nodeIP, podSubnet, type ClusterConfig } from '../cluster-config.js';

export const FAULT_ANNOTATION = 'knet.dev/fault';

export function nodeObject(config: ClusterConfig, name: string, ordinal: number): Node {
  const zone = config.zones?.[name];
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
        'beta.kubernetes.io/os': 'linux',
        ...(zone ? { 'topology.kubernetes.io/zone': zone } : {}),
      },
    },
    spec: { podCIDR: podSubnet(config, ordinal), podCIDRs: [podSubnet(config, ordinal)] },
  };
}

export function readyCondition(now = new Date().toISOString()): NodeCondition {
  return { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now };
}

export function nodeStatus(config: ClusterConfig, name: string, ordinal: number): Node['status'] {
  return {
    addresses: [
      { type: 'InternalIP', address: nodeIP(config, ordinal) },
      { type: 'Hostname', address: name },
    ],
    conditions: [readyCondition()],
    capacity: { pods: '253', cpu: '2', memory: '24Gi' },
    allocatable: { pods: '253', cpu: '2', memory: '24Gi' },
    nodeInfo: {
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      operatingSystem: 'linux',
      osImage: 'knet loopback node',
      kernelVersion: process.version,
      kubeletVersion: 'v1.30.0-knet',
      kubeProxyVersion: 'v1.30.0-knet',
      containerRuntimeVersion: 'knet://0.1.0',
      bootID: '',
      machineID: '',
      systemUUID: '',
    },
  };
}

export function isNodeReady(node: Node | undefined): boolean {
  return node?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
}
