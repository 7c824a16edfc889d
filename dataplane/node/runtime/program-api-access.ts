/**
 * In-cluster API access for real programs (process containers). A host process cannot see
 * /var/run/secrets/kubernetes.io/serviceaccount/, so the program gets a kubeconfig of its pod's
 * own service account —
 *
 *   <pod dir>/kubeconfig   server https://<kubernetes ClusterIP>:443 (through kube-proxy, as
 *                          KUBERNETES_SERVICE_HOST/PORT say), the CA file and token file of the
 *                          pod's service-account volume, the pod's namespace
 *
 * — and `KUBECONFIG` pointing at it, so an unmodified client's default loading (client-node
 * `loadFromDefault()`, python `config.load_kube_config()`, client-go's clientcmd) talks to the
 * API as that service account. The files it names are the volume's own (the admission's
 * `kube-api-access-*`), as the pod's volumes are rendered on disk for its programs
 * (pod-volumes-dir.ts: `<pod dir>/volumes/kubernetes.io~projected/<volume>/{token,ca.crt}`):
 * one writer, so what a program reads through KUBECONFIG is what it reads under
 * $KNET_VOLUMES_DIR. That writer replaces them atomically (atomic-writer.ts: `token` is a link
 * through `..data`, swapped with one rename) whenever the token is refreshed
 * (../pod-api-access.ts renders the pod's volumes again then), so a reader never sees half a
 * token, and client-go and python, which re-read `tokenFile`, get the new one. The token file
 * is named both `tokenFile` (client-go, python) and `token-file` (client-node).
 *
 * Private to this user: the kubeconfig is 0600 and the pod's directory, which holds the volume
 * (the token is a credential), 0700, as the rest of the state dir. Pods with
 * `automountServiceAccountToken: false` (no such volume) get no kubeconfig.
 */
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Pod, Service, Volume } from 'kubernetes-types/core/v1.js';
import { stringify } from 'yaml';
import { SERVICE_ACCOUNT_MOUNT_PATH } from '../../base/admission/service-account.js';
import { volumeDirPath } from './pod-volumes-dir.js';

export interface ProgramApiAccess {
  /** What process containers get in their environment (KUBECONFIG). */
  env: Record<string, string>;
  /** Writes the kubeconfig again (the `kubernetes` Service now known); cheap when nothing changed. */
  refresh(): void;
  /** The pod is gone: its directory goes too. */
  remove(): void;
}

export interface ProgramApiAccessInput {
  pod: Pod;
  /** This pod's directory (created here, 0700); its volumes are rendered under it (pod-volumes-dir.ts). */
  dir: string;
  /** The `kubernetes` Service of `default` (its ClusterIP and https port), when known. */
  kubernetesService: () => Service | undefined;
}

/** The KUBECONFIG for the pod's programs, or undefined when the pod mounts no service-account volume. */
export function programApiAccess(input: ProgramApiAccessInput): ProgramApiAccess | undefined {
  const { pod, dir } = input;
  const volume = serviceAccountVolume(pod);
  if (!volume) return undefined;
  const volumeDir = volumeDirPath(dir, volume);
  const kubeconfig = path.join(dir, 'kubeconfig');
  let written: string | undefined;

  // The pod's directory may have been made by another part first (an emptyDir shared with the
  // sandbox is made 0755): the token under it is a credential, so the directory is made private here.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const refresh = () => {
    const text = kubeconfigText(pod, serverOf(input.kubernetesService()), volumeDir);
    if (written === text) return;
    // Replaced with a rename, so a client loading it never reads half a file.
    const tmp = `${kubeconfig}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, kubeconfig);
    written = text;
  };
  refresh();
  return { env: { KUBECONFIG: kubeconfig }, refresh, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The volume mounted at the service-account path (the admission's kube-api-access-*, or the pod's own). */
function serviceAccountVolume(pod: Pod): Volume | undefined {
  const mounted = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]
    .flatMap((c) => c.volumeMounts ?? [])
    .find((m) => m.mountPath.replace(/\/+$/, '') === SERVICE_ACCOUNT_MOUNT_PATH && !m.subPath);
  return mounted && pod.spec?.volumes?.find((v) => v.name === mounted.name);
}

/** https://<ClusterIP>:<https port> of the `kubernetes` Service, as in-cluster clients build it from KUBERNETES_SERVICE_HOST/PORT. */
function serverOf(svc: Service | undefined): string {
  const ip = svc?.spec?.clusterIP;
  const port = svc?.spec?.ports?.find((p) => p.name === 'https')?.port ?? svc?.spec?.ports?.[0]?.port ?? 443;
  return `https://${ip && ip !== 'None' ? ip : 'kubernetes.default.svc'}:${port}`;
}

function kubeconfigText(pod: Pod, server: string, volumeDir: string): string {
  const sa = pod.spec?.serviceAccountName || 'default';
  const token = path.join(volumeDir, 'token');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'in-cluster', cluster: { server, 'certificate-authority': path.join(volumeDir, 'ca.crt') } }],
    users: [{ name: sa, user: { tokenFile: token, 'token-file': token } }],
    contexts: [{ name: 'in-cluster', context: { cluster: 'in-cluster', user: sa, namespace: pod.metadata?.namespace ?? 'default' } }],
    'current-context': 'in-cluster',
  });
}
