/**
 * What the containers of one pod share inside knet's simulated shell — the pod's "sandbox":
 * its identity (hostname, FQDN, IP), its /etc/hosts and /etc/resolv.conf as the kubelet writes
 * them, its emptyDir volumes (in memory; on disk when programs of the pod share them), its claims'
 * PersistentVolume directories (on disk, outliving the pod), its network endpoint (connections from the pod IP, the hook for
 * NetworkPolicy egress) and each container's filesystem, created on first use and kept for the
 * pod's life (so files a session writes are there for the next `exec`).
 */
import { mkdirSync } from 'node:fs';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { IFileSystem } from 'just-bash';
import type { ObjectLookup } from '../runtime/container-env.js';
import { podHostname } from '../runtime/container-env.js';
import { loadJustBash, type JustBash } from './just-bash-loader.js';
import { createContainerFilesystem, type ContainerFilesystem } from './container-filesystem.js';
import type { VolumeContext } from './volume-files.js';
import { podFqdn, podHostsFile } from './etc-hosts.js';
import { podResolvConf, renderResolvConf, type ResolvConf } from './resolv-conf.js';
import type { ServiceAccountIssuer } from './service-account-files.js';
import type { EgressCheck, PodEndpoint } from './dial-from-pod.js';
import type { ContainerShellContext } from './pod-shell.js';
import { shellProfile } from './toolbox-images.js';

export interface ClusterNetworkSettings {
  clusterDomain: string;
  dnsServiceIP: string;
  /** The port the cluster DNS really answers on (53, or a fallback such as 5353). */
  dnsPort: () => number;
  /** The node's own /etc/resolv.conf (dnsPolicy Default, and the search domains pods inherit). */
  nodeResolvConf: ResolvConf;
}

export interface PodSandboxOptions {
  pod: Pod;
  podIP: string;
  hostIP: string;
  cluster: ClusterNetworkSettings;
  lookup: ObjectLookup;
  serviceAccounts?: ServiceAccountIssuer;
  /** NetworkPolicy egress for this pod's connections (dial-from-pod.ts). */
  egress?: EgressCheck;
  /**
   * Where an emptyDir lives on disk, for a pod whose programs share it with its emulated images
   * (../runtime/pod-volumes-dir.ts); undefined (or no function): in memory.
   */
  emptyDirOnDisk?: (volume: string) => string | undefined;
  /** The cluster's PersistentVolume directories (base/persistent-volume-dir.ts); none: a claim's volume is an empty directory. */
  persistentVolumesDir?: string;
}

export class PodSandbox {
  readonly hostname: string;
  readonly fqdn: string | undefined;
  readonly hostsFile: string;
  readonly resolvConf: string;
  readonly endpoint: PodEndpoint;
  private readonly filesystems = new Map<string, Promise<ContainerFilesystem>>();
  private readonly emptyDirs = new Map<string, IFileSystem>();
  /** The pod as last seen by a volume sync (its labels and annotations may have changed since the start). */
  private latestPod: Pod;

  constructor(private readonly opts: PodSandboxOptions) {
    const { pod, podIP, cluster } = opts;
    this.latestPod = pod;
    this.hostname = podHostname(pod);
    this.fqdn = podFqdn(pod, cluster.clusterDomain);
    this.hostsFile = podHostsFile(pod, [podIP], cluster.clusterDomain);
    this.resolvConf = renderResolvConf(podResolvConf(pod, cluster, cluster.nodeResolvConf));
    this.endpoint = { pod, podIP, egress: opts.egress, dns: { ip: cluster.dnsServiceIP, port: cluster.dnsPort } };
  }

  get pod(): Pod {
    return this.opts.pod;
  }

  get podIP(): string {
    return this.opts.podIP;
  }

  /** The container's filesystem (created once, then kept). */
  filesystem(container: Container): Promise<ContainerFilesystem> {
    let fs = this.filesystems.get(container.name);
    if (!fs) {
      fs = this.createFilesystem(container);
      this.filesystems.set(container.name, fs);
    }
    return fs;
  }

  /** A restarted container starts from its image again: a fresh writable layer (volumes stay). */
  resetFilesystem(container: string): void {
    this.filesystems.delete(container);
  }

  /** Everything a shell in this container needs, with the container's resolved environment. */
  async shellContext(container: Container, env: ReadonlyMap<string, string>): Promise<ContainerShellContext> {
    const lib = await loadJustBash();
    const { fs } = await this.filesystem(container);
    const profile = shellProfile(container.image);
    return {
      lib,
      fs,
      env,
      identity: { hostname: this.hostname, fqdn: this.fqdn, podIP: this.podIP },
      network: { endpoint: this.endpoint, libc: profile.libc, nslookup: profile.nslookup },
      tools: profile.tools,
      workingDir: container.workingDir || '/',
    };
  }

  /**
   * What volume contents are computed from (volume-files.ts): the pod (as it is now, when
   * given: downward-API files follow label and annotation changes), its addresses, the
   * Secrets and ConfigMaps, and the service-account token hook.
   */
  volumeContext(pod: Pod = this.latestPod): VolumeContext {
    const { podIP, hostIP, lookup, serviceAccounts, persistentVolumesDir } = this.opts;
    return { pod, podIP, hostIP, lookup, token: (aud, exp) => serviceAccounts?.token?.(pod, aud, exp), persistentVolumesDir };
  }

  /** The kubelet's periodic sync: mounted volumes follow their ConfigMaps, Secrets and the pod's metadata (not subPath mounts, not env). */
  async refreshVolumes(pod?: Pod): Promise<void> {
    if (pod) this.latestPod = pod;
    const ctx = this.volumeContext();
    for (const fs of this.filesystems.values()) await (await fs).refresh(ctx);
  }

  private async createFilesystem(container: Container): Promise<ContainerFilesystem> {
    const lib: JustBash = await loadJustBash();
    const { pod } = this.opts;
    return createContainerFilesystem({
      lib,
      container,
      volumes: pod.spec?.volumes ?? [],
      volumeContext: this.volumeContext(),
      etc: { hostname: this.hostname, hosts: this.hostsFile, resolvConf: this.resolvConf },
      emptyDir: (name) => {
        let d = this.emptyDirs.get(name);
        if (!d) {
          const onDisk = this.opts.emptyDirOnDisk?.(name);
          if (onDisk) mkdirSync(onDisk, { recursive: true, mode: 0o755 });
          d = onDisk ? new lib.ReadWriteFs({ root: onDisk }) : new lib.InMemoryFs();
          this.emptyDirs.set(name, d);
        }
        return d;
      },
    });
  }
}
