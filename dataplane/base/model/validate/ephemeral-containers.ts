/**
 * Ephemeral containers (`kubectl debug`), as kube-apiserver 1.32 validates them
 * (pkg/apis/core/validation: validateEphemeralContainers, ValidatePodCreate,
 * ValidatePodEphemeralContainersUpdate):
 *   - in any pod spec: each one a valid container whose name is unique among all the pod's
 *     containers, whose `targetContainerName` names a regular or init container, and which sets
 *     none of the fields an ephemeral container may not have (ports, probes, resources,
 *     lifecycle, resizePolicy, restartPolicy) nor a volume mount's subPath;
 *   - on create: none at all (they are added through the `ephemeralcontainers` subresource);
 *   - through that subresource: existing ones may be neither removed nor changed.
 */
import type { Container, EphemeralContainer, Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import { child, duplicate, forbidden, index, invalid, notFound, required, type FieldError } from './field-error.js';
import { validateContainer } from './containers.js';
import { isDNS1123Label } from './formats.js';

/** allowedEphemeralContainerFields' false entries, by their JSON names. */
const DISALLOWED_FIELDS = ['ports', 'resources', 'resizePolicy', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'restartPolicy'] as const;
const CANNOT_BE_SET = 'cannot be set for an Ephemeral Container';

/** Go's zero value: what validateFieldAllowList lets through (`resources: {}` as defaulted is zero). */
function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '' || v === 0) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as Record<string, unknown>).every(isZero);
  return false;
}

/** `spec.ephemeralContainers` of a pod spec (its volumes' names given). */
export function validateEphemeralContainers(spec: PodSpec, volumes: ReadonlySet<string>, specPath: string): FieldError[] {
  const ecs = spec.ephemeralContainers ?? [];
  if (ecs.length === 0) return [];
  const errs: FieldError[] = [];
  const others = new Set([...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.name));
  const all = new Set(others);
  ecs.forEach((ec, i) => {
    const p = index(child(specPath, 'ephemeralContainers'), i);
    const namePath = child(p, 'name');
    if (!ec.name) errs.push(required(namePath));
    else for (const m of isDNS1123Label(ec.name)) errs.push(invalid(namePath, ec.name, m));
    errs.push(...validateContainer(commonOf(ec), p, volumes, false));
    if (ec.name && all.has(ec.name)) errs.push(duplicate(namePath, ec.name));
    else if (ec.name) all.add(ec.name);
    if (ec.targetContainerName && !others.has(ec.targetContainerName)) errs.push(notFound(child(p, 'targetContainerName'), ec.targetContainerName));
    for (const f of DISALLOWED_FIELDS) if (!isZero(ec[f])) errs.push(forbidden(child(p, f), CANNOT_BE_SET));
    (ec.volumeMounts ?? []).forEach((vm, j) => {
      if (vm.subPath) errs.push(forbidden(child(index(child(p, 'volumeMounts'), j), 'subPath'), CANNOT_BE_SET));
      if (vm.subPathExpr) errs.push(forbidden(child(index(child(p, 'volumeMounts'), j), 'subPathExpr'), CANNOT_BE_SET));
    });
  });
  return errs;
}

/**
 * The container an ephemeral container is (EphemeralContainerCommon), without its target and
 * without the fields it may not set: those get the allow-list's one error, not a container's rules.
 */
function commonOf(ec: EphemeralContainer): Container {
  const { targetContainerName: _t, ...common } = ec;
  const c: Record<string, unknown> = { ...common };
  for (const f of DISALLOWED_FIELDS) delete c[f];
  return c as unknown as Container;
}

/** ValidatePodCreate: a pod is created without ephemeral containers. */
export function validatePodCreate(pod: Pod): FieldError[] {
  return (pod.spec?.ephemeralContainers ?? []).length > 0 ? [forbidden('spec.ephemeralContainers', 'cannot be set on create')] : [];
}

/**
 * ValidatePodEphemeralContainersUpdate's second part: every ephemeral container of `oldPod` is in
 * `newPod` unchanged (order aside: patches do not keep it). Upstream ends each message with a
 * newline and, for a change, cmp.Diff's rendering of it; knet says which fields differ instead.
 */
export function validateEphemeralContainersUpdate(oldPod: Pod, newPod: Pod): FieldError[] {
  const errs: FieldError[] = [];
  const path = 'spec.ephemeralContainers';
  const byName = new Map((newPod.spec?.ephemeralContainers ?? []).map((c) => [c.name, c]));
  for (const old of oldPod.spec?.ephemeralContainers ?? []) {
    const now = byName.get(old.name);
    if (!now) {
      errs.push(forbidden(path, `existing ephemeral containers ${JSON.stringify(old.name)} may not be removed\n`));
      continue;
    }
    const changed = changedFields(old, now);
    if (changed.length > 0) errs.push(forbidden(path, `existing ephemeral containers ${JSON.stringify(old.name)} may not be changed\n(fields: ${changed.join(', ')})`));
  }
  return errs;
}

function changedFields(a: EphemeralContainer, b: EphemeralContainer): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const ra = a as unknown as Record<string, unknown>;
  const rb = b as unknown as Record<string, unknown>;
  return keys.filter((k) => stable(ra[k]) !== stable(rb[k]));
}

/** JSON with sorted keys: key order is no change (apiequality.Semantic.DeepEqual). */
function stable(v: unknown): string {
  return JSON.stringify(v ?? null, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))) : x,
  );
}
