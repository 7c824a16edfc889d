/**
 * The Deployment controller's decisions, as pure functions over the Deployment and its
 * ReplicaSets (k8s.io/kubernetes/pkg/controller/deployment: sync.go, rolling.go,
 * recreate.go, util/deployment_util.go). One call decides one step; the controller writes
 * it and is woken again by the resulting events, as upstream does.
 *
 * Availability per ReplicaSet comes from its pods (Ready for minReadySeconds, not being
 * deleted), capped at the ReplicaSet's spec.replicas: pods above that are about to be deleted
 * and must not be counted as capacity, or maxUnavailable could be overrun while the
 * ReplicaSet controller catches up.
 */
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { sameJson } from './canonical-json.js';
import { templateHash } from './names.js';
import { newControllerRef } from './owner-references.js';
import { LABEL_POD_TEMPLATE_HASH } from '../base/model/well-known.js';
import { copiedAnnotations, DESIRED_REPLICAS, MAX_REPLICAS, newReplicaSetAnnotations, nextRevision, REVISION, revisionOf } from './deployment-revision.js';

export { DESIRED_REPLICAS, MAX_REPLICAS, REVISION, revisionOf } from './deployment-revision.js';
export const POD_TEMPLATE_HASH = LABEL_POD_TEMPLATE_HASH;

/** A ReplicaSet with what its pods say about it. */
export interface RSInfo {
  rs: ReplicaSet;
  /** Active pods (not finished, not terminating). */
  active: number;
  ready: number;
  /** Active pods Ready for minReadySeconds. */
  available: number;
  /** Pods not finished, terminating ones included (Recreate waits for them). */
  running: number;
}

export interface ScaleStep {
  rs: ReplicaSet;
  replicas: number;
  annotations: Record<string, string>;
}

export interface RolloutStep {
  create?: ReplicaSet;
  scale: ScaleStep[];
  /** Existing new ReplicaSet whose annotations (revision, copied ones) or minReadySeconds must be brought up to date. */
  refresh?: ScaleStep & { minReadySeconds?: number };
  cleanup: ReplicaSet[];
}

// ---- maxSurge / maxUnavailable ---------------------------------------------------------------

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean, dflt: string): number {
  const value = v ?? dflt;
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value.trim());
  if (!m) {
    const n = Number(value);
    if (Number.isInteger(n)) return n;
    throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage: "${value}"`);
  }
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/** ResolveFenceposts: surge rounds up, unavailable down; both 0 means unavailable 1. */
export function fenceposts(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  if (!isRollingUpdate(d)) return { maxSurge: 0, maxUnavailable: 0 };
  const replicas = d.spec?.replicas ?? 1;
  const ru = d.spec?.strategy?.rollingUpdate;
  const maxSurge = scaledValue(ru?.maxSurge, replicas, true, '25%');
  let maxUnavailable = scaledValue(ru?.maxUnavailable, replicas, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

// ---- ReplicaSets of a Deployment --------------------------------------------------------------

function withoutHash(t: PodTemplateSpec | undefined): unknown {
  const labels = { ...t?.metadata?.labels };
  delete labels[POD_TEMPLATE_HASH];
  return { ...t, metadata: { ...t?.metadata, labels } };
}

/** EqualIgnoreHash: the ReplicaSet runs the Deployment's current template. */
export function runsTemplate(rs: ReplicaSet, d: Deployment): boolean {
  return sameJson(withoutHash(rs.spec?.template), withoutHash(d.spec?.template));
}

const specReplicas = (i: RSInfo) => i.rs.spec?.replicas ?? 0;
const cappedAvailable = (i: RSInfo) => Math.min(i.available, specReplicas(i));
const byCreation = (a: RSInfo, b: RSInfo) =>
  (a.rs.metadata?.creationTimestamp ?? '').localeCompare(b.rs.metadata?.creationTimestamp ?? '') || (a.rs.metadata?.name ?? '').localeCompare(b.rs.metadata?.name ?? '');

export function splitSets(d: Deployment, sets: RSInfo[]): { newSet?: RSInfo; old: RSInfo[] } {
  const matching = sets.filter((s) => runsTemplate(s.rs, d)).sort(byCreation);
  const newSet = matching[0];
  return { newSet, old: sets.filter((s) => s !== newSet).sort(byCreation) };
}

/** The ReplicaSet a Deployment's template gets: `<deploy>-<hash>`, selector and labels + hash. */
export function newReplicaSet(d: Deployment, replicas: number, revision: number): ReplicaSet {
  const hash = templateHash(d.spec?.template, d.status?.collisionCount);
  const template: PodTemplateSpec = structuredClone(d.spec!.template);
  const labels = { ...template.metadata?.labels, [POD_TEMPLATE_HASH]: hash };
  template.metadata = { ...template.metadata, labels };
  const sel = d.spec!.selector;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata!.name}-${hash}`,
      namespace: d.metadata?.namespace,
      labels,
      annotations: { ...copiedAnnotations(d), ...replicaAnnotations(d), [REVISION]: String(revision) },
      ownerReferences: [newControllerRef({ ...d, apiVersion: 'apps/v1', kind: 'Deployment' })],
    },
    spec: {
      replicas,
      minReadySeconds: d.spec?.minReadySeconds ?? 0,
      selector: { ...sel, matchLabels: { ...sel.matchLabels, [POD_TEMPLATE_HASH]: hash } },
      template,
    },
  };
}

function replicaAnnotations(d: Deployment): Record<string, string> {
  const replicas = d.spec?.replicas ?? 1;
  return { [DESIRED_REPLICAS]: String(replicas), [MAX_REPLICAS]: String(replicas + fenceposts(d).maxSurge) };
}

function scaleTo(d: Deployment, info: RSInfo, replicas: number): ScaleStep {
  return { rs: info.rs, replicas, annotations: replicaAnnotations(d) };
}

const active = (sets: RSInfo[]) => sets.filter((s) => specReplicas(s) > 0);
const total = (sets: RSInfo[]) => sets.reduce((n, s) => n + specReplicas(s), 0);

// ---- scaling (sync.go: isScalingEvent, scale) ---------------------------------------------

export function isScalingEvent(d: Deployment, sets: RSInfo[]): boolean {
  const replicas = String(d.spec?.replicas ?? 1);
  return active(sets).some((s) => {
    const desired = s.rs.metadata?.annotations?.[DESIRED_REPLICAS];
    return desired !== undefined && desired !== replicas;
  });
}

/** Scales to a new replica count, proportionally across ReplicaSets mid-rollout. */
export function planScale(d: Deployment, newSet: RSInfo | undefined, old: RSInfo[]): ScaleStep[] {
  const replicas = d.spec?.replicas ?? 1;
  const all = newSet ? [...old, newSet] : [...old];
  const live = active(all);
  if (live.length <= 1) {
    // One active ReplicaSet (or none: the newest) takes the whole count.
    const target = live[0] ?? newSet ?? [...old].sort(byCreation).at(-1);
    if (!target || (specReplicas(target) === replicas && target.rs.metadata?.annotations?.[DESIRED_REPLICAS] === String(replicas))) return [];
    return [scaleTo(d, target, replicas)];
  }
  if (newSet && specReplicas(newSet) === replicas && Math.min(newSet.available, replicas) === replicas) {
    return active(old).map((s) => scaleTo(d, s, 0));
  }
  if (!isRollingUpdate(d)) return [];
  const allowed = replicas > 0 ? replicas + fenceposts(d).maxSurge : 0;
  const toAdd = allowed - total(live);
  const sizeOf = (s: RSInfo) => specReplicas(s);
  const created = (s: RSInfo) => s.rs.metadata?.creationTimestamp ?? '';
  // Larger first; ties: newer first when growing, older first when shrinking.
  const ordered = [...live].sort((a, b) => sizeOf(b) - sizeOf(a) || (toAdd > 0 ? created(b).localeCompare(created(a)) : created(a).localeCompare(created(b))));
  const sizes = new Map<RSInfo, number>();
  let added = 0;
  for (const s of ordered) {
    let proportion = 0;
    if (toAdd !== 0 && sizeOf(s) > 0 && added !== toAdd) {
      const annotated = Number(s.rs.metadata?.annotations?.[MAX_REPLICAS]) || d.status?.replicas || sizeOf(s);
      const fraction = replicas === 0 ? -sizeOf(s) : Math.round((sizeOf(s) * allowed) / annotated) - sizeOf(s);
      proportion = toAdd > 0 ? Math.min(fraction, toAdd - added) : Math.max(fraction, toAdd - added);
    }
    sizes.set(s, sizeOf(s) + proportion);
    added += proportion;
  }
  if (toAdd !== 0) sizes.set(ordered[0]!, Math.max(0, sizes.get(ordered[0]!)! + toAdd - added));
  return ordered.filter((s) => sizes.get(s) !== sizeOf(s) || s.rs.metadata?.annotations?.[DESIRED_REPLICAS] !== String(replicas)).map((s) => scaleTo(d, s, sizes.get(s)!));
}

// ---- rolling update (rolling.go) ---------------------------------------------------------------

/** NewRSNewReplicas: how far the new ReplicaSet may grow now. */
export function newSetReplicas(d: Deployment, all: RSInfo[], newCurrent: number): number {
  const replicas = d.spec?.replicas ?? 1;
  if (!isRollingUpdate(d)) return replicas;
  const maxTotal = replicas + fenceposts(d).maxSurge;
  const current = total(all);
  if (current >= maxTotal) return newCurrent;
  return newCurrent + Math.max(0, Math.min(maxTotal - current, replicas - newCurrent));
}

/** reconcileOldReplicaSets: unhealthy old pods first, then old capacity above minAvailable. */
export function planOldScaleDown(d: Deployment, newSet: RSInfo, old: RSInfo[]): ScaleStep[] {
  const oldActive = active(old);
  if (total(oldActive) === 0) return [];
  const replicas = d.spec?.replicas ?? 1;
  const minAvailable = replicas - fenceposts(d).maxUnavailable;
  const newUnavailable = specReplicas(newSet) - cappedAvailable(newSet);
  const maxScaledDown = total([...old, newSet]) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return [];
  const sizes = new Map(oldActive.map((s) => [s, specReplicas(s)] as const));
  let cleaned = 0;
  for (const s of [...oldActive].sort(byCreation)) {
    if (cleaned >= maxScaledDown) break;
    const unhealthy = sizes.get(s)! - cappedAvailable(s);
    if (unhealthy <= 0) continue;
    const n = Math.min(maxScaledDown - cleaned, unhealthy);
    sizes.set(s, sizes.get(s)! - n);
    cleaned += n;
  }
  const availableNow = cappedAvailable(newSet) + oldActive.reduce((n, s) => n + Math.min(s.available, sizes.get(s)!), 0);
  let scaleDown = Math.max(0, availableNow - minAvailable);
  for (const s of [...oldActive].sort(byCreation)) {
    if (scaleDown <= 0) break;
    const n = Math.min(sizes.get(s)!, scaleDown);
    sizes.set(s, sizes.get(s)! - n);
    scaleDown -= n;
  }
  return oldActive.filter((s) => sizes.get(s) !== specReplicas(s)).map((s) => scaleTo(d, s, sizes.get(s)!));
}

/** One step of a Deployment's rollout: create, scale, refresh or clean up. */
export function planRollout(d: Deployment, sets: RSInfo[]): RolloutStep {
  const step: RolloutStep = { scale: [], cleanup: [] };
  if (d.metadata?.deletionTimestamp) return step;
  const { newSet, old } = splitSets(d, sets);
  const replicas = d.spec?.replicas ?? 1;
  const revision = nextRevision(old.map((s) => s.rs));

  // getNewReplicaSet: the newest ReplicaSet takes the Deployment's annotations and the highest
  // revision (a rollback to its template makes it the newest again), paused or not.
  if (newSet) {
    const annotations = newReplicaSetAnnotations(d, newSet.rs, revision);
    if (annotations || (newSet.rs.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0)) {
      step.refresh = { rs: newSet.rs, replicas: specReplicas(newSet), annotations: annotations ?? { ...newSet.rs.metadata?.annotations }, minReadySeconds: d.spec?.minReadySeconds ?? 0 };
      return step;
    }
  }
  if (d.spec?.paused || isScalingEvent(d, sets)) {
    step.scale = planScale(d, newSet, old);
    if (d.spec?.paused && step.scale.length === 0) step.cleanup = cleanupSets(d, old);
    return step;
  }
  if (!isRollingUpdate(d)) {
    const shrinking = active(old);
    if (shrinking.length) step.scale = shrinking.map((s) => scaleTo(d, s, 0));
    else if (old.some((s) => s.running > 0)) return step;
    else if (!newSet) step.create = newReplicaSet(d, replicas, revision);
    else if (specReplicas(newSet) !== replicas) step.scale = [scaleTo(d, newSet, replicas)];
    else if (isComplete(d, newSet, old)) step.cleanup = cleanupSets(d, old);
    return step;
  }
  if (!newSet) {
    step.create = newReplicaSet(d, newSetReplicas(d, sets, 0), revision);
    return step;
  }
  if (specReplicas(newSet) > replicas) step.scale = [scaleTo(d, newSet, replicas)];
  else if (specReplicas(newSet) < replicas) {
    const grow = newSetReplicas(d, sets, specReplicas(newSet));
    if (grow !== specReplicas(newSet)) step.scale = [scaleTo(d, newSet, grow)];
  }
  if (step.scale.length) return step;
  step.scale = planOldScaleDown(d, newSet, old);
  if (step.scale.length === 0 && isComplete(d, newSet, old)) step.cleanup = cleanupSets(d, old);
  return step;
}

function isComplete(d: Deployment, newSet: RSInfo, old: RSInfo[]): boolean {
  const replicas = d.spec?.replicas ?? 1;
  return specReplicas(newSet) === replicas && newSet.active === replicas && newSet.available >= replicas && old.every((s) => s.active === 0);
}

/** revisionHistoryLimit (default 10): the oldest fully scaled-down ReplicaSets beyond it go. */
export function cleanupSets(d: Deployment, old: RSInfo[]): ReplicaSet[] {
  const limit = d.spec?.revisionHistoryLimit ?? 10;
  const idle = old.filter((s) => specReplicas(s) === 0 && s.running === 0 && !s.rs.metadata?.deletionTimestamp);
  if (idle.length <= limit) return [];
  idle.sort((a, b) => revisionOf(a.rs) - revisionOf(b.rs) || byCreation(a, b));
  return idle.slice(0, idle.length - limit).map((s) => s.rs);
}
