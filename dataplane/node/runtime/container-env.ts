/**
 * A container's environment, resolved the way the kubelet's makeEnvironmentVariables does:
 *   1. envFrom (ConfigMaps, Secrets, with prefix) into a working map; keys that are no valid
 *      variable names are skipped with an InvalidEnvironmentVariableNames warning;
 *   2. env in declaration order, each overriding: `value` with `$(VAR)` expanded against the
 *      variables so far and the service variables; `valueFrom` fieldRef / resourceFieldRef /
 *      configMapKeyRef / secretKeyRef;
 *   3. the service variables, for names the container did not define.
 * knet adds POD_IP, POD_NAME, POD_NAMESPACE, NODE_NAME, PORT (first containerPort) and HOSTNAME
 * with the same low precedence as the service variables.
 *
 * A missing non-optional ConfigMap/Secret (or key) is an error carrying the kubelet's message;
 * the container then waits in CreateContainerConfigError. Pure: objects come from `lookup`.
 */
import type { ConfigMap, Container, EnvVarSource, PersistentVolumeClaim, Pod, Secret, Service, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { expand, mappingFor } from './env-expansion.js';
import { resourceFieldValue, type NodeAllocatable } from './resource-quantity.js';
import { serviceEnv } from './service-env.js';

export interface ObjectLookup {
  secret(namespace: string, name: string): Secret | undefined;
  configMap(namespace: string, name: string): ConfigMap | undefined;
  /** Given when this node issues tokens: a projected token waits for its service account. */
  serviceAccount?(namespace: string, name: string): ServiceAccount | undefined;
  /** Given when the node backs claims with storage: a pod waits for its claims to be Bound (volume-sources.ts). */
  persistentVolumeClaim?(namespace: string, name: string): PersistentVolumeClaim | undefined;
}

export interface EnvInput {
  pod: Pod;
  container: Container;
  podIP: string;
  hostIP: string;
  nodeName: string;
  services: readonly Service[];
  lookup: ObjectLookup;
  node?: NodeAllocatable;
}

export type EnvResult =
  | { ok: true; env: Map<string, string>; warnings: string[] }
  | { ok: false; message: string };

export const DEFAULT_NODE: NodeAllocatable = { cpu: 2, memory: 8 * 2 ** 30, 'ephemeral-storage': 100 * 2 ** 30 };

/** Validation's IsEnvVarName. */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export function resolveContainerEnv(input: EnvInput): EnvResult {
  const { pod, container } = input;
  const ns = pod.metadata?.namespace ?? 'default';
  const lowPrecedence = new Map([...knetEnv(input), ...serviceEnv(input.services, ns, pod.spec?.enableServiceLinks ?? true)]);
  const env = new Map<string, string>();
  const warnings: string[] = [];

  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const isSecret = !!from.secretRef;
    const name = ref.name ?? '';
    const data = isSecret ? secretData(input.lookup.secret(ns, name)) : configMapData(input.lookup.configMap(ns, name));
    if (!data) {
      if (ref.optional) continue;
      return { ok: false, message: notFound(isSecret, name) };
    }
    const invalid: string[] = [];
    for (const [key, value] of Object.entries(data)) {
      const k = (from.prefix ?? '') + key;
      if (!ENV_NAME.test(k)) invalid.push(k);
      else env.set(k, value);
    }
    if (invalid.length > 0) {
      warnings.push(
        `Keys [${invalid.sort().join(', ')}] from the EnvFrom ${isSecret ? 'secret' : 'configMap'} ${ns}/${name} were skipped since they are considered invalid environment variable names.`,
      );
    }
  }

  const mapping = mappingFor(env, lowPrecedence);
  for (const v of container.env ?? []) {
    if (v.value) {
      env.set(v.name, expand(v.value, mapping));
      continue;
    }
    if (!v.valueFrom) {
      env.set(v.name, '');
      continue;
    }
    const r = valueFrom(v.valueFrom, input, ns);
    if ('error' in r) return { ok: false, message: r.error };
    if ('skip' in r) continue;
    env.set(v.name, r.value);
  }

  for (const [k, v] of lowPrecedence) if (!env.has(k)) env.set(k, v);
  return { ok: true, env, warnings };
}

/** Command and args with `$(VAR)` expanded against the final environment (ExpandContainerCommandAndArgs). */
export function expandCommand(container: Container, env: ReadonlyMap<string, string>): { command: string[]; args: string[] } {
  const mapping = mappingFor(env);
  return {
    command: (container.command ?? []).map((c) => expand(c, mapping)),
    args: (container.args ?? []).map((a) => expand(a, mapping)),
  };
}

/** The hostname the kubelet gives a pod's containers: spec.hostname, else the pod name (max 63 chars). */
export function podHostname(pod: Pod): string {
  const name = pod.spec?.hostname || pod.metadata?.name || '';
  return name.length > 63 ? name.slice(0, 63).replace(/[-.]+$/, '') : name;
}

function knetEnv(input: EnvInput): Map<string, string> {
  const m = new Map<string, string>();
  m.set('HOSTNAME', podHostname(input.pod));
  m.set('POD_IP', input.podIP);
  m.set('POD_NAME', input.pod.metadata?.name ?? '');
  m.set('POD_NAMESPACE', input.pod.metadata?.namespace ?? 'default');
  m.set('NODE_NAME', input.nodeName);
  const first = input.container.ports?.[0];
  if (first) m.set('PORT', String(first.containerPort));
  return m;
}

export type ValueResult = { value: string } | { error: string } | { skip: true };

function valueFrom(src: EnvVarSource, input: EnvInput, ns: string): ValueResult {
  if (src.fieldRef) return fieldRefValue(src.fieldRef.fieldPath, input);
  if (src.resourceFieldRef) {
    const divisor = src.resourceFieldRef.divisor as string | number | undefined;
    return resourceFieldValue(input.container, src.resourceFieldRef.resource, divisor, input.node ?? DEFAULT_NODE);
  }
  const ref = src.configMapKeyRef ?? src.secretKeyRef;
  if (!ref) return { skip: true };
  const isSecret = !!src.secretKeyRef;
  const name = ref.name ?? '';
  const data = isSecret ? secretData(input.lookup.secret(ns, name)) : configMapData(input.lookup.configMap(ns, name));
  if (!data) return ref.optional ? { skip: true } : { error: notFound(isSecret, name) };
  const value = data[ref.key];
  if (value === undefined) {
    if (ref.optional) return { skip: true };
    return { error: `couldn't find key ${ref.key} in ${isSecret ? 'Secret' : 'ConfigMap'} ${ns}/${name}` };
  }
  return { value };
}

/** podFieldSelectorRuntimeValue + fieldpath.ExtractFieldPathAsString (env vars and downward-API volume files). */
export function fieldRefValue(path: string, { pod, podIP, hostIP }: Pick<EnvInput, 'pod' | 'podIP' | 'hostIP'>): ValueResult {
  const meta = pod.metadata ?? {};
  switch (path) {
    case 'spec.nodeName': return { value: pod.spec?.nodeName ?? '' };
    case 'spec.serviceAccountName': return { value: pod.spec?.serviceAccountName ?? '' };
    case 'status.hostIP': case 'status.hostIPs': return { value: hostIP };
    case 'status.podIP': case 'status.podIPs': return { value: podIP };
    case 'metadata.name': return { value: meta.name ?? '' };
    case 'metadata.namespace': return { value: meta.namespace ?? 'default' };
    case 'metadata.uid': return { value: meta.uid ?? '' };
    case 'metadata.labels': return { value: formatMap(meta.labels) };
    case 'metadata.annotations': return { value: formatMap(meta.annotations) };
  }
  const sub = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (sub) return { value: (sub[1] === 'labels' ? meta.labels : meta.annotations)?.[sub[2]!] ?? '' };
  return { error: `unsupported fieldPath: ${path}` };
}

/** fieldpath.FormatMap: `key="value"` lines, sorted by key. */
function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join('\n');
}

function notFound(isSecret: boolean, name: string): string {
  return `${isSecret ? 'secret' : 'configmap'} "${name}" not found`;
}

/** A Secret's values as text: `data` is base64 as in the API; `stringData` (if the store kept it) wins. */
export function secretData(secret: Secret | undefined): Record<string, string> | undefined {
  if (!secret) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = v;
  return out;
}

/** envFrom reads `data` only (binaryData is not text), as does configMapKeyRef. */
function configMapData(cm: ConfigMap | undefined): Record<string, string> | undefined {
  return cm ? { ...(cm.data ?? {}) } : undefined;
}
