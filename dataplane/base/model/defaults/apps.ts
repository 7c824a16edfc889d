/**
 * Workload defaults (pkg/apis/apps/v1/defaults.go): replicas, rollout strategies, history
 * limits, and the pod template's own defaults.
 */
import { asObject, ensureObject, setDefault, type JsonObject } from './json.js';
import { defaultPodTemplate } from './pod.js';

export function defaultDeploymentSpec(spec: JsonObject): void {
  setDefault(spec, 'replicas', 1);
  const strategy = ensureObject(spec, 'strategy');
  if (strategy) {
    setDefault(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const ru = ensureObject(strategy, 'rollingUpdate');
      if (ru) {
        setDefault(ru, 'maxUnavailable', '25%');
        setDefault(ru, 'maxSurge', '25%');
      }
    }
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  defaultPodTemplate(asObject(spec.template));
}

export function defaultReplicaSetSpec(spec: JsonObject): void {
  setDefault(spec, 'replicas', 1);
  defaultPodTemplate(asObject(spec.template));
}

export function defaultStatefulSetSpec(spec: JsonObject): void {
  setDefault(spec, 'podManagementPolicy', 'OrderedReady');
  const us = ensureObject(spec, 'updateStrategy');
  if (us) {
    if (us.type === undefined || us.type === '') {
      us.type = 'RollingUpdate';
      setDefault(us, 'rollingUpdate', {});
    }
    const ru = asObject(us.rollingUpdate);
    if (us.type === 'RollingUpdate' && ru) setDefault(ru, 'partition', 0);
  }
  const retention = ensureObject(spec, 'persistentVolumeClaimRetentionPolicy');
  if (retention) {
    setDefault(retention, 'whenDeleted', 'Retain');
    setDefault(retention, 'whenScaled', 'Retain');
  }
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplate(asObject(spec.template));
}

export function defaultDaemonSetSpec(spec: JsonObject): void {
  const us = ensureObject(spec, 'updateStrategy');
  if (us) {
    setDefault(us, 'type', 'RollingUpdate');
    if (us.type === 'RollingUpdate') {
      const ru = ensureObject(us, 'rollingUpdate');
      if (ru) {
        setDefault(ru, 'maxUnavailable', 1);
        setDefault(ru, 'maxSurge', 0);
      }
    }
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplate(asObject(spec.template));
}
