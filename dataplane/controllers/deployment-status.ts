/**
 * A Deployment's status (sync.go calculateStatus, progress.go syncRolloutStatus and
 * deployment_controller.go checkPausedConditions): replica counts over its ReplicaSets' pods,
 * and the Available and Progressing conditions with the upstream reasons and messages, so
 * `knet rollout status` and describe read as kubectl's. A paused Deployment's Progressing
 * condition is Unknown/DeploymentPaused and its progress is not judged (no deadline runs while
 * paused); resuming sets Unknown/DeploymentResumed, from which the deadline counts again.
 */
import type { Deployment, DeploymentCondition, DeploymentStatus } from 'kubernetes-types/apps/v1.js';
import { fenceposts, type RSInfo } from './deployment-rollout.js';
import { metaTime } from '../base/model/meta-time.js';
import { omitEmpty } from '../base/model/omit-empty.js';

const NEW_RS_AVAILABLE = 'NewReplicaSetAvailable';
const TIMED_OUT = 'ProgressDeadlineExceeded';
const PAUSED = 'DeploymentPaused';

/** SetDeploymentCondition: same status and reason → unchanged; same status → keep transition time. */
export function setDeploymentCondition(conditions: DeploymentCondition[], next: DeploymentCondition): DeploymentCondition[] {
  const prior = conditions.find((c) => c.type === next.type);
  if (prior && prior.status === next.status && prior.reason === next.reason) return conditions;
  const merged = prior && prior.status === next.status ? { ...next, lastTransitionTime: prior.lastTransitionTime } : next;
  return [...conditions.filter((c) => c.type !== next.type), merged];
}

function condition(type: string, status: string, reason: string, message: string, now: string): DeploymentCondition {
  return { type, status, reason, message, lastUpdateTime: now, lastTransitionTime: now };
}

export interface StatusInput {
  d: Deployment;
  sets: RSInfo[];
  newSet?: RSInfo;
  now: number;
  /** Name of a ReplicaSet created in this pass (Progressing: NewReplicaSetCreated). */
  createdName?: string;
}

/** Every count of DeploymentStatus is omitempty: a 0 is not written. */
const OMITEMPTY_COUNTS = ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'] as const;

export function deploymentStatus({ d, sets, newSet, now, createdName }: StatusInput): { status: DeploymentStatus; recheckMs?: number } {
  const replicas = d.spec?.replicas ?? 1;
  const nowIso = metaTime(now);
  const sum = (f: (s: RSInfo) => number) => sets.reduce((n, s) => n + f(s), 0);
  const available = sum((s) => s.available);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata?.generation ?? 1,
    replicas: sum((s) => s.active),
    updatedReplicas: newSet?.active ?? 0,
    readyReplicas: sum((s) => s.ready),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sum((s) => s.rs.spec?.replicas ?? 0) - available),
    ...(d.status?.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
  };
  let conditions = [...(d.status?.conditions ?? [])];
  conditions =
    available >= replicas - fenceposts(d).maxUnavailable
      ? setDeploymentCondition(conditions, condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', nowIso))
      : setDeploymentCondition(conditions, condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', nowIso));

  const paused = d.spec?.paused === true;
  const before = conditions.find((c) => c.type === 'Progressing');
  if (before?.reason !== TIMED_OUT) {
    if (paused && before?.reason !== PAUSED) conditions = setDeploymentCondition(conditions, condition('Progressing', 'Unknown', PAUSED, 'Deployment is paused', nowIso));
    else if (!paused && before?.reason === PAUSED) conditions = setDeploymentCondition(conditions, condition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed', nowIso));
  }
  if (paused) return { status: omitEmpty({ ...status, conditions: sortConditions(conditions) }, OMITEMPTY_COUNTS) };

  const rsName = createdName ?? newSet?.rs.metadata?.name;
  const subject = rsName ? `ReplicaSet "${rsName}"` : `Deployment "${d.metadata?.name}"`;
  const deadline = d.spec?.progressDeadlineSeconds ?? 600;
  const current = conditions.find((c) => c.type === 'Progressing');
  let recheckMs: number | undefined;
  if (createdName) {
    conditions = setDeploymentCondition(conditions, condition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${createdName}"`, nowIso));
  } else if (!(status.replicas === status.updatedReplicas && current?.reason === NEW_RS_AVAILABLE)) {
    const complete = status.updatedReplicas === replicas && status.replicas === replicas && available === replicas;
    const old = d.status ?? {};
    const progressed =
      (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
      (status.replicas ?? 0) - (status.updatedReplicas ?? 0) < (old.replicas ?? 0) - (old.updatedReplicas ?? 0) ||
      (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
      available > (old.availableReplicas ?? 0);
    if (complete) {
      conditions = setDeploymentCondition(conditions, condition('Progressing', 'True', NEW_RS_AVAILABLE, `${subject} has successfully progressed.`, nowIso));
    } else if (progressed) {
      // Progress refreshes lastUpdateTime (the deadline restarts) but keeps the transition time.
      const next = condition('Progressing', 'True', 'ReplicaSetUpdated', `${subject} is progressing.`, nowIso);
      if (current?.status === 'True') next.lastTransitionTime = current.lastTransitionTime;
      conditions = [...conditions.filter((c) => c.type !== 'Progressing'), next];
    } else if (current && current.reason !== TIMED_OUT && current.reason !== NEW_RS_AVAILABLE) {
      const since = Date.parse(current.lastUpdateTime ?? current.lastTransitionTime ?? '') || now;
      const left = since + deadline * 1000 - now;
      if (left < 0) conditions = setDeploymentCondition(conditions, condition('Progressing', 'False', TIMED_OUT, `${subject} has timed out progressing.`, nowIso));
      else recheckMs = left + 10;
    }
  }
  return { status: omitEmpty({ ...status, conditions: sortConditions(conditions) }, OMITEMPTY_COUNTS), recheckMs };
}

const ORDER = ['Available', 'Progressing', 'ReplicaFailure'];
const sortConditions = (conditions: DeploymentCondition[]) => conditions.sort((a, b) => ORDER.indexOf(a.type) - ORDER.indexOf(b.type));
