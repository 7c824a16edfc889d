/**
 * The apiserver's ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount/admission.go),
 * pure. On a pod's **create** only:
 *
 * - `spec.serviceAccountName` defaults to `default` (the deprecated `serviceAccount` follows it);
 * - the service account must exist, or the create is Forbidden: `error looking up service account
 *   NS/NAME: serviceaccount "NAME" not found`. The `default` one is let through while missing:
 *   upstream waits a moment for the controller that creates it, and in knet a namespace and its
 *   pods may arrive in one apply, before that controller has seen the namespace;
 * - unless `automountServiceAccountToken` is false (the pod's, else the service account's), the
 *   projected volume `kube-api-access-xxxxx` is added — a serviceAccountToken (3607 s, `token`),
 *   the `kube-root-ca.crt` ConfigMap's `ca.crt`, the namespace from the downward API, mode 0644 —
 *   and mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container and
 *   init container that has nothing mounted there.
 *
 * Every pod create calls it: `knet apply` (apply.ts), single-object creates (writes.ts) and the
 * controllers' pod creates (controllers/controller-context.ts), each with the service account
 * read from where it reads.
 */
import type { Container, Pod, ServiceAccount, Volume, VolumeMount } from 'kubernetes-types/core/v1.js';
import { WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS } from '../serviceaccount/token-claims.js';
import { generateName } from './generate-name.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const SERVICE_ACCOUNT_VOLUME_PREFIX = 'kube-api-access-';
/** The ConfigMap the root-ca-cert-publisher keeps in every namespace. */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const ROOT_CA_KEY = 'ca.crt';

/** The service account a pod runs as: its serviceAccountName, else the deprecated serviceAccount, else `default`. */
export function podServiceAccountName(pod: Pod): string {
  return pod.spec?.serviceAccountName || pod.spec?.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
}

/** Why the create must be refused (the Forbidden message after `pods "x" is forbidden: `), or undefined. */
export function serviceAccountProblem(pod: Pod, serviceAccount: ServiceAccount | undefined): string | undefined {
  const name = podServiceAccountName(pod);
  if (serviceAccount || name === DEFAULT_SERVICE_ACCOUNT) return undefined;
  return `error looking up service account ${pod.metadata?.namespace ?? 'default'}/${name}: serviceaccount "${name}" not found`;
}

/** The pod as the plugin admits it (a new object; `pod` is left alone). `newVolumeName` names a new volume: random by default. */
export function admitServiceAccount(pod: Pod, serviceAccount: ServiceAccount | undefined, newVolumeName = generateName(SERVICE_ACCOUNT_VOLUME_PREFIX)): Pod {
  const name = podServiceAccountName(pod);
  const spec = { ...pod.spec!, serviceAccountName: name, serviceAccount: name };
  const automount = pod.spec?.automountServiceAccountToken ?? serviceAccount?.automountServiceAccountToken ?? true;
  if (!automount) return { ...pod, spec };

  const volumes = spec.volumes ?? [];
  const existing = volumes.find((v) => v.name.startsWith(SERVICE_ACCOUNT_VOLUME_PREFIX));
  const volumeName = existing?.name ?? newVolumeName;
  const mount: VolumeMount = { name: volumeName, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH };
  let needed = false;
  const withMount = (c: Container): Container => {
    if ((c.volumeMounts ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) return c;
    needed = true;
    return { ...c, volumeMounts: [...(c.volumeMounts ?? []), mount] };
  };
  const containers = (spec.containers ?? []).map(withMount);
  const initContainers = spec.initContainers?.map(withMount);
  if (!needed) return { ...pod, spec };
  return {
    ...pod,
    spec: {
      ...spec,
      containers,
      ...(initContainers ? { initContainers } : {}),
      volumes: existing ? volumes : [...volumes, serviceAccountVolume(volumeName)],
    },
  };
}

/** The projected volume, defaulted as the apiserver stores it. */
export function serviceAccountVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: ROOT_CA_KEY, path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' }, path: 'namespace' }] } },
      ],
    },
  };
}
