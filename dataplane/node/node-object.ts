/**
 * The Node object a node agent registers and keeps Ready, as the kubelet does: its labels and
 * annotations, and a status with the kubelet's four conditions, the machine's capacity and the
 * kubelet's nodeInfo. Every node of a knet cluster runs on this one machine, so each reports the
 * machine's CPUs, memory, disk and identity, as kind's nodes (containers on one host) do.
 */
import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';
import { nodeIP, podSubnet, type ClusterConfig } from '../base/cluster-config.js';
import { LABEL_HOSTNAME, LABEL_TOPOLOGY_ZONE } from '../base/model/well-known.js';
import { metaTime } from '../base/model/meta-time.js';
import { KUBE_VERSION } from '../base/model/kube-version.js';

const ARCH = process.arch === 'x64' ? 'amd64' : process.arch;

export function nodeObject(config: ClusterConfig, name: string, ordinal: number): Node {
  const zone = config.zones?.[name];
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'beta.kubernetes.io/arch': ARCH,
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': ARCH,
        [LABEL_HOSTNAME]: name,
        'kubernetes.io/os': 'linux',
        ...(zone ? { [LABEL_TOPOLOGY_ZONE]: zone } : {}),
      },
      // What the kubelet (attach/detach by the controller) and the TTL controller set.
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: { podCIDR: podSubnet(config, ordinal), podCIDRs: [podSubnet(config, ordinal)] },
  };
}

export function readyCondition(now = metaTime()): NodeCondition {
  return { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now };
}

/** The kubelet's node conditions when all is well (setters.go MemoryPressureCondition, …, ReadyCondition), in its order. */
export function healthyConditions(now = metaTime()): NodeCondition[] {
  const ok = (type: string, reason: string, message: string): NodeCondition => ({ type, status: 'False', reason, message, lastHeartbeatTime: now, lastTransitionTime: now });
  return [
    ok('MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    ok('DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    ok('PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    readyCondition(now),
  ];
}

/** The kubelet's default hard eviction threshold memory.available<100Mi, which allocatable leaves out. */
const EVICTION_MEMORY_KI = 100 * 1024;

/** Capacity and allocatable as the kubelet reports them: quantities in Ki, hugepages 0, pods the node's pod range. */
export function nodeResources(maxPods: number, host: { cpus: number; memoryBytes: number; diskBytes: number }): Pick<NonNullable<Node['status']>, 'capacity' | 'allocatable'> {
  const memoryKi = Math.floor(host.memoryBytes / 1024);
  const diskKi = Math.floor(host.diskBytes / 1024);
  const common = { cpu: String(host.cpus), 'ephemeral-storage': `${diskKi}Ki`, 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', pods: String(maxPods) };
  return {
    capacity: { ...common, memory: `${memoryKi}Ki` },
    // kind sets the disk thresholds to 0 %, so ephemeral-storage is all allocatable.
    allocatable: { ...common, memory: `${Math.max(0, memoryKi - EVICTION_MEMORY_KI)}Ki` },
  };
}

export function nodeStatus(config: ClusterConfig, name: string, ordinal: number): Node['status'] {
  const host = machine();
  return {
    addresses: [
      { type: 'InternalIP', address: nodeIP(config, ordinal) },
      { type: 'Hostname', address: name },
    ],
    conditions: healthyConditions(),
    // The exec endpoint's usual port (exec/exec-server.ts; the store has the one in use).
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    // A node's pod range is a /24: 253 pod IPs.
    ...nodeResources(253, host),
    nodeInfo: {
      architecture: ARCH,
      bootID: host.bootID,
      containerRuntimeVersion: 'knet://0.1.0',
      kernelVersion: os.release(),
      kubeProxyVersion: KUBE_VERSION.gitVersion,
      kubeletVersion: KUBE_VERSION.gitVersion,
      machineID: host.machineID,
      operatingSystem: 'linux',
      osImage: host.osImage,
      systemUUID: host.systemUUID,
    },
  };
}

export function isNodeReady(node: Node | undefined): boolean {
  return node?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
}

/** This machine, as the kubelet's cadvisor sees it (read once). */
let cached: { cpus: number; memoryBytes: number; diskBytes: number; machineID: string; systemUUID: string; bootID: string; osImage: string } | undefined;
function machine(): NonNullable<typeof cached> {
  if (cached) return cached;
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  let diskBytes = 0;
  try {
    const fs = statfsSync('/');
    diskBytes = fs.blocks * fs.bsize;
  } catch {
    // No filesystem statistics: capacity says 0, as a kubelet without cadvisor data would.
  }
  const prettyName = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(read('/etc/os-release'))?.[1];
  const machineID = read('/etc/machine-id').trim();
  // The DMI product UUID when the machine has one, else the machine id in UUID form.
  const systemUUID = read('/sys/class/dmi/id/product_uuid').trim() || machineID.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
  cached = {
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    memoryBytes: os.totalmem(),
    diskBytes,
    machineID,
    systemUUID,
    bootID: read('/proc/sys/kernel/random/boot_id').trim(),
    osImage: prettyName ?? `${os.type()} ${os.release()}`,
  };
  return cached;
}
