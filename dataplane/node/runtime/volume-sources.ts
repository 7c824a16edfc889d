/**
 * Volumes are accepted but not mounted (containers are local processes or emulations); what
 * matters is the kubelet's behaviour around them: a pod whose Secret or ConfigMap volume (or a
 * projected source of one) is missing stays in ContainerCreating with a FailedMount event until
 * the object exists — so does one whose projected service-account token cannot be had because
 * its service account does not exist (yet), and one whose PersistentVolumeClaim is missing or not
 * Bound (claim-volume.ts). Pure: objects come from the lookup.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { secretData, type ObjectLookup } from './container-env.js';
import { podServiceAccountName } from '../../base/admission/service-account.js';
import { resolveClaim } from './claim-volume.js';

export interface VolumeProblem {
  volume: string;
  /** The kubelet's FailedMount event text. */
  message: string;
}

interface SourceRef {
  kind: 'secret' | 'configmap';
  name: string;
  optional: boolean;
  keys: string[];
}

export function missingVolumeSources(pod: Pod, lookup: ObjectLookup): VolumeProblem[] {
  const ns = pod.metadata?.namespace ?? 'default';
  const problems: VolumeProblem[] = [];
  for (const vol of pod.spec?.volumes ?? []) {
    for (const ref of sourcesOf(vol)) {
      const problem = checkSource(ref, ns, lookup);
      if (problem) problems.push({ volume: vol.name, message: `MountVolume.SetUp failed for volume "${vol.name}" : ${problem}` });
    }
    // A projected token is a TokenRequest for the pod's service account, which must exist.
    if (lookup.serviceAccount && vol.projected?.sources?.some((s) => s.serviceAccountToken)) {
      const sa = podServiceAccountName(pod);
      if (!lookup.serviceAccount(ns, sa)) problems.push({ volume: vol.name, message: `MountVolume.SetUp failed for volume "${vol.name}" : failed to fetch token: serviceaccounts "${sa}" not found` });
    }
    const claim = resolveClaim(pod, vol, lookup);
    if (claim && 'problem' in claim) problems.push({ volume: vol.name, message: claim.problem });
  }
  return problems;
}

function sourcesOf(vol: NonNullable<NonNullable<Pod['spec']>['volumes']>[number]): SourceRef[] {
  const out: SourceRef[] = [];
  const keys = (items?: Array<{ key: string }>) => (items ?? []).map((i) => i.key);
  if (vol.secret) out.push({ kind: 'secret', name: vol.secret.secretName ?? '', optional: !!vol.secret.optional, keys: keys(vol.secret.items) });
  if (vol.configMap) out.push({ kind: 'configmap', name: vol.configMap.name ?? '', optional: !!vol.configMap.optional, keys: keys(vol.configMap.items) });
  for (const s of vol.projected?.sources ?? []) {
    if (s.secret) out.push({ kind: 'secret', name: s.secret.name ?? '', optional: !!s.secret.optional, keys: keys(s.secret.items) });
    if (s.configMap) out.push({ kind: 'configmap', name: s.configMap.name ?? '', optional: !!s.configMap.optional, keys: keys(s.configMap.items) });
  }
  return out;
}

function checkSource(ref: SourceRef, ns: string, lookup: ObjectLookup): string | undefined {
  const data =
    ref.kind === 'secret'
      ? secretData(lookup.secret(ns, ref.name))
      : (() => {
          const cm = lookup.configMap(ns, ref.name);
          return cm ? { ...(cm.data ?? {}), ...(cm.binaryData ?? {}) } : undefined;
        })();
  if (!data) return ref.optional ? undefined : `${ref.kind} "${ref.name}" not found`;
  for (const key of ref.keys) {
    if (!(key in data) && !ref.optional) return `${ref.kind} references non-existent ${ref.kind === 'secret' ? 'secret' : 'config'} key: ${key}`;
  }
  return undefined;
}
