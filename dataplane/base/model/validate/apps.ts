/**
 * Workload validation (pkg/apis/apps/validation): Deployment, ReplicaSet, StatefulSet and
 * DaemonSet. All four need a selector that matches their pod template's labels, pods that
 * restart Always, and non-negative counts.
 */
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { forbidden, GoLiteral, invalid, notSupported, required, type FieldError } from './field-error.js';
import { isValidPercent, nameIsDNSSubdomain } from './formats.js';
import { goLabelSelector, isConvertibleSelector, isEmptySelector, selectorMatches, validateLabelSelector } from './label-selector.js';
import { validateObjectMeta } from './object-meta.js';
import { validatePodTemplateSpec } from './pod.js';

const NONNEGATIVE = 'must be greater than or equal to 0';

function nonNegative(value: number | undefined, path: string): FieldError[] {
  return value !== undefined && value < 0 ? [invalid(path, value, NONNEGATIVE)] : [];
}

/** Go prints an IntOrString as its struct. */
function goIntOrString(v: number | string): GoLiteral {
  return typeof v === 'number'
    ? new GoLiteral(`intstr.IntOrString{Type:0, IntVal:${v}, StrVal:""}`)
    : new GoLiteral(`intstr.IntOrString{Type:1, IntVal:0, StrVal:${JSON.stringify(v)}}`);
}

function validatePositiveIntOrPercent(v: number | string | undefined, path: string): FieldError[] {
  if (typeof v === 'string') return isValidPercent(v).map((m) => invalid(path, goIntOrString(v), m));
  return nonNegative(v, path);
}

const intOrPercentValue = (v: number | string | undefined): number =>
  typeof v === 'string' ? Number.parseInt(v, 10) || 0 : (v ?? 0);

function notMoreThan100Percent(v: number | string | undefined, path: string): FieldError[] {
  return typeof v === 'string' && isValidPercent(v).length === 0 && intOrPercentValue(v) > 100
    ? [invalid(path, goIntOrString(v), 'must not be greater than 100%')]
    : [];
}

/**
 * Selector required, non-empty and matching the template; the template a valid pod template that
 * restarts Always. `kindWord` is how upstream names the kind in "empty selector is invalid for…"
 * (ReplicaSet really says "deployment").
 */
function validateSelectorAndTemplate(
  selector: LabelSelector | undefined,
  template: PodTemplateSpec | undefined,
  kindWord: string,
  kindName: string,
  claimVolumes: readonly string[] = [],
): FieldError[] {
  const errs: FieldError[] = [];
  if (!selector) {
    errs.push(required('spec.selector'));
  } else {
    errs.push(...validateLabelSelector(selector, 'spec.selector'));
    if (isEmptySelector(selector)) errs.push(invalid('spec.selector', goLabelSelector(selector), `empty selector is invalid for ${kindWord}`));
  }
  if (!isConvertibleSelector(selector)) {
    errs.push(invalid('spec.selector', goLabelSelector(selector), 'invalid label selector'));
    return errs;
  }
  if (!template) return [...errs, required('spec.template')];
  // A missing selector converts to "nothing", which matches no labels: upstream reports both.
  if (!selector || (!isEmptySelector(selector) && !selectorMatches(selector, template.metadata?.labels))) {
    const labels = template.metadata?.labels;
    const shown = labels === undefined ? new GoLiteral('map[string]string(nil)') : labels;
    errs.push(invalid('spec.template.metadata.labels', shown, '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(template, 'spec.template', claimVolumes));
  const rp = template.spec?.restartPolicy;
  if (rp !== undefined && rp !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', rp, ['Always']));
  if (template.spec?.activeDeadlineSeconds !== undefined) {
    errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', `activeDeadlineSeconds in ${kindName} is not Supported`));
  }
  return errs;
}

export function validateDeployment(d: Deployment): FieldError[] {
  const spec = d.spec;
  const errs = validateObjectMeta(d.metadata, true, nameIsDNSSubdomain);
  if (!spec) return [...errs, required('spec.selector'), required('spec.template')];
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateSelectorAndTemplate(spec.selector, spec.template, 'deployment', 'ReplicaSet'));
  const strategy = spec.strategy ?? {};
  switch (strategy.type) {
    case 'Recreate':
      if (strategy.rollingUpdate) {
        errs.push(forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
      }
      break;
    case 'RollingUpdate': {
      const ru = strategy.rollingUpdate;
      if (!ru) {
        errs.push(required('spec.strategy.rollingUpdate', 'this should be defaulted and never be nil'));
        break;
      }
      const p = 'spec.strategy.rollingUpdate';
      errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`));
      errs.push(...validatePositiveIntOrPercent(ru.maxSurge, `${p}.maxSurge`));
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
        errs.push(invalid(`${p}.maxUnavailable`, goIntOrString(ru.maxUnavailable ?? 0), 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...notMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`));
      break;
    }
    default:
      errs.push(notSupported('spec.strategy', strategy, ['Recreate', 'RollingUpdate']));
  }
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (spec.progressDeadlineSeconds !== undefined) {
    errs.push(...nonNegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      errs.push(invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

export function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  const spec = rs.spec;
  const errs = validateObjectMeta(rs.metadata, true, nameIsDNSSubdomain);
  if (!spec) return [...errs, required('spec.selector'), required('spec.template')];
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateSelectorAndTemplate(spec.selector, spec.template, 'deployment', 'ReplicaSet'));
  return errs;
}

export function validateStatefulSet(ss: StatefulSet): FieldError[] {
  const spec = ss.spec;
  const errs = validateObjectMeta(ss.metadata, true, nameIsDNSSubdomain);
  if (!spec) return [...errs, required('spec.selector'), required('spec.template')];
  const pmp = spec.podManagementPolicy ?? '';
  if (pmp === '') errs.push(required('spec.podManagementPolicy'));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel') {
    errs.push(invalid('spec.podManagementPolicy', pmp, "must be 'OrderedReady' or 'Parallel'"));
  }
  const us = spec.updateStrategy ?? {};
  switch (us.type ?? '') {
    case '':
      errs.push(required('spec.updateStrategy'));
      break;
    case 'OnDelete':
      if (us.rollingUpdate) {
        errs.push(invalid('spec.updateStrategy.rollingUpdate', us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
      }
      break;
    case 'RollingUpdate':
      errs.push(...nonNegative(us.rollingUpdate?.partition, 'spec.updateStrategy.rollingUpdate.partition'));
      break;
    default:
      errs.push(invalid('spec.updateStrategy', us, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.ordinals?.start, 'spec.ordinals.start'));
  // Upstream leaves a StatefulSet's pod spec unchecked (its TODO: the template's volumes and the
  // claim templates together must cover the mounts); knet checks it, with the claims counted.
  const claimVolumes = (spec.volumeClaimTemplates ?? []).map((t) => t.metadata?.name ?? '');
  errs.push(...validateSelectorAndTemplate(spec.selector, spec.template, 'statefulset', 'StatefulSet', claimVolumes));
  return errs;
}

export function validateDaemonSet(ds: DaemonSet): FieldError[] {
  const spec = ds.spec;
  const errs = validateObjectMeta(ds.metadata, true, nameIsDNSSubdomain);
  if (!spec) return [...errs, required('spec.selector'), required('spec.template')];
  errs.push(...validateSelectorAndTemplate(spec.selector, spec.template, 'daemonset', 'DaemonSet'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  const us = spec.updateStrategy ?? {};
  switch (us.type) {
    case 'OnDelete':
      break;
    case 'RollingUpdate': {
      const ru = us.rollingUpdate;
      if (!ru) {
        errs.push(required('spec.updateStrategy.rollingUpdate'));
        break;
      }
      const p = 'spec.updateStrategy.rollingUpdate';
      errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`));
      errs.push(...validatePositiveIntOrPercent(ru.maxSurge, `${p}.maxSurge`));
      const mu = intOrPercentValue(ru.maxUnavailable);
      const ms = intOrPercentValue(ru.maxSurge);
      if (mu === 0 && ms === 0) {
        errs.push(invalid(`${p}.maxUnavailable`, goIntOrString(ru.maxUnavailable ?? 0), 'may not be 0 when `maxSurge` is 0'));
      }
      if (mu !== 0 && ms !== 0) {
        errs.push(invalid(`${p}.maxSurge`, goIntOrString(ru.maxSurge ?? 0), 'may not be set when maxUnavailable is non-zero'));
      }
      errs.push(...notMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`));
      break;
    }
    default:
      errs.push(notSupported('spec.updateStrategy', us, ['RollingUpdate', 'OnDelete']));
  }
  return errs;
}
