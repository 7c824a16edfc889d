/**
 * Defaulting as the apiserver does it on create and update, for the kinds knet stores. Pure:
 * every function returns a new object and leaves its argument alone. Idempotent: defaulting a
 * defaulted object changes nothing, so it is safe to run on read-modify-write paths.
 */
import { isKind, KINDS, type KObject } from '../object.js';
import { defaultDaemonSetSpec, defaultDeploymentSpec, defaultReplicaSetSpec, defaultStatefulSetSpec } from './apps.js';
import { asObject, asObjects, cloneWithoutNulls, ensureObject, setDefault, type JsonObject } from './json.js';
import { defaultPodSpec } from './pod.js';
import { defaultCronJob, defaultJob } from './batch.js';
import { defaultPriority, defaultTolerationSeconds } from './pod-admission.js';
import { defaultServiceSpec } from './service.js';
import { defaultMoreKinds } from './more-kinds.js';
import { LABEL_METADATA_NAME } from '../well-known.js';

export { dropTypeDependentFields, normalizeClusterIPs, patchAllocatedValues } from './service-update.js';
export { DEFAULT_CLIENT_IP_TIMEOUT } from './service.js';

/** The namespace objects land in when the manifest names none (kubectl's default context). */
export const DEFAULT_NAMESPACE = 'default';

/**
 * What the apiserver does to a manifest before defaulting: JSON nulls mean "unset", and a
 * Secret's write-only `stringData` is folded into `data` (base64), overriding same-named keys.
 */
export function normalizeManifest<T>(obj: T): T {
  const out = cloneWithoutNulls(obj);
  const o = asObject(out);
  if (o && o.kind === 'Secret' && o.stringData !== undefined) {
    const stringData = asObject(o.stringData);
    if (stringData) {
      const data = ensureObject(o, 'data');
      if (data) {
        for (const [k, v] of Object.entries(stringData)) {
          if (typeof v === 'string') data[k] = Buffer.from(v, 'utf8').toString('base64');
        }
      }
      delete o.stringData;
    }
  }
  return out as T;
}

function defaultMetadata(o: JsonObject, namespaced: boolean): void {
  const meta = ensureObject(o, 'metadata');
  if (!meta) return;
  // The apiserver clears namespace on cluster-scoped kinds, and kubectl fills the default one in.
  if (namespaced) setDefault(meta, 'namespace', DEFAULT_NAMESPACE);
  else delete meta.namespace;
}

function defaultKind(kind: string, o: JsonObject): void {
  const spec = (): JsonObject | undefined => ensureObject(o, 'spec');
  switch (kind) {
    case 'Service': {
      const s = spec();
      if (s) defaultServiceSpec(s, asObject(o.status));
      break;
    }
    case 'Pod': {
      const s = spec();
      if (s) {
        defaultPodSpec(s, true);
        defaultTolerationSeconds(s);
        defaultPriority(s);
      }
      break;
    }
    case 'Deployment': {
      const s = spec();
      if (s) defaultDeploymentSpec(s);
      break;
    }
    case 'ReplicaSet': {
      const s = spec();
      if (s) defaultReplicaSetSpec(s);
      break;
    }
    case 'StatefulSet': {
      const s = spec();
      if (s) defaultStatefulSetSpec(s);
      break;
    }
    case 'DaemonSet': {
      const s = spec();
      if (s) defaultDaemonSetSpec(s);
      break;
    }
    case 'Job':
      defaultJob(o);
      break;
    case 'CronJob':
      defaultCronJob(o);
      break;
    case 'Secret':
      setDefault(o, 'type', 'Opaque');
      break;
    case 'Namespace': {
      // Every namespace carries its own name as a label, so selectors can pick namespaces by name.
      const meta = asObject(o.metadata);
      const labels = meta && typeof meta.name === 'string' && meta.name !== '' ? ensureObject(meta, 'labels') : undefined;
      if (labels && meta) labels[LABEL_METADATA_NAME] = meta.name;
      break;
    }
    case 'Endpoints':
      for (const subset of asObjects(o.subsets)) for (const p of asObjects(subset.ports)) setDefault(p, 'protocol', 'TCP');
      break;
    case 'EndpointSlice':
      for (const p of asObjects(o.ports)) {
        setDefault(p, 'name', '');
        setDefault(p, 'protocol', 'TCP');
      }
      break;
    case 'NetworkPolicy': {
      const s = spec();
      if (s) defaultNetworkPolicySpec(s);
      break;
    }
    default:
      defaultMoreKinds(kind, o);
  }
}

/**
 * networking/v1 defaults: ports are TCP unless given, podSelector is always present (a struct,
 * not a pointer, upstream), and policyTypes is inferred — Ingress always, Egress when the policy
 * has egress rules — so a stored policy says which directions it isolates.
 */
function defaultNetworkPolicySpec(s: JsonObject): void {
  setDefault(s, 'podSelector', {});
  for (const rule of [...asObjects(s.ingress), ...asObjects(s.egress)]) for (const p of asObjects(rule.ports)) setDefault(p, 'protocol', 'TCP');
  if (!Array.isArray(s.policyTypes) || s.policyTypes.length === 0) s.policyTypes = asObjects(s.egress).length ? ['Ingress', 'Egress'] : ['Ingress'];
}

/**
 * The object as the apiserver would store it: normalised (see normalizeManifest), namespace
 * filled in or cleared by scope, and every API default applied. Unknown kinds and malformed
 * shapes pass through (normalised) without error: validation reports them.
 */
export function applyDefaults<T extends KObject>(obj: T): T {
  const out = normalizeManifest(obj);
  const o = asObject(out);
  if (!o || typeof o.kind !== 'string' || !isKind(o.kind)) return out;
  defaultMetadata(o, KINDS[o.kind].namespaced);
  defaultKind(o.kind, o);
  return out;
}
