/**
 * Validation of a Job's failure and success policies (pkg/apis/batch/validation, 1.32):
 * `podFailurePolicy` rules (actions, onExitCodes, onPodConditions), `successPolicy` rules of an
 * Indexed Job, and `backoffLimitPerIndex` / `maxFailedIndexes` — with upstream's limits and
 * messages.
 */
import type { JobSpec, PodFailurePolicyOnExitCodesRequirement, PodFailurePolicyOnPodConditionsPattern, PodFailurePolicyRule, SuccessPolicyRule } from 'kubernetes-types/batch/v1.js';
import { child, duplicate, index, invalid, notSupported, required, tooLong, tooMany, type FieldError } from './field-error.js';
import { isQualifiedName } from './formats.js';

const MAX_FAILED_INDEXES = 100_000;
const COMPLETIONS_SOFT_LIMIT = 100_000;
const PARALLELISM_LIMIT_HIGH_COMPLETIONS = 10_000;
const MAX_FAILED_INDEXES_HIGH_COMPLETIONS = 10_000;
const MAX_POD_FAILURE_POLICY_RULES = 20;
const MAX_EXIT_CODE_VALUES = 255;
const MAX_CONDITION_PATTERNS = 20;
const MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024;
const MAX_SUCCESS_POLICY_RULES = 20;
const ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
const OPERATORS = ['In', 'NotIn'];
const CONDITION_STATUSES = ['False', 'True', 'Unknown'];
/** field.Invalid with field.OmitValueType{}: the value is left out of the message. */
const invalidNoValue = (path: string, detail: string): FieldError => ({ field: path, type: 'Invalid', detail, message: `${path}: Invalid value: ${detail}` });

const nonNegative = (v: number | undefined, path: string): FieldError[] => (v !== undefined && v < 0 ? [invalid(path, v, 'must be greater than or equal to 0')] : []);

/** backoffLimitPerIndex and maxFailedIndexes (the Indexed-mode checks of validateJobSpec). */
export function validatePerIndexLimits(spec: JobSpec, path: string): FieldError[] {
  const errs = [...nonNegative(spec.backoffLimitPerIndex, child(path, 'backoffLimitPerIndex'))];
  const max = spec.maxFailedIndexes;
  const maxPath = child(path, 'maxFailedIndexes');
  if (max !== undefined) {
    errs.push(...nonNegative(max, maxPath));
    if (spec.backoffLimitPerIndex === undefined) errs.push(required(child(path, 'backoffLimitPerIndex'), 'when maxFailedIndexes is specified'));
  }
  if (spec.completionMode !== 'Indexed') {
    if (max !== undefined) errs.push(invalid(maxPath, max, 'requires indexed completion mode'));
    return errs;
  }
  const completions = spec.completions;
  if (completions !== undefined && max !== undefined && max > completions) errs.push(invalid(maxPath, max, 'must be less than or equal to completions'));
  if (max !== undefined && max > MAX_FAILED_INDEXES) errs.push(invalid(maxPath, max, `must be less than or equal to ${MAX_FAILED_INDEXES}`));
  if (completions !== undefined && completions > COMPLETIONS_SOFT_LIMIT && spec.backoffLimitPerIndex !== undefined) {
    const above = `when completions are above ${COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index`;
    if (max === undefined) errs.push(required(maxPath, `must be specified when completions is above ${COMPLETIONS_SOFT_LIMIT}`));
    if ((spec.parallelism ?? 0) > PARALLELISM_LIMIT_HIGH_COMPLETIONS) errs.push(invalid(child(path, 'parallelism'), spec.parallelism, `must be less than or equal to ${PARALLELISM_LIMIT_HIGH_COMPLETIONS} ${above}`));
    if (max !== undefined && max > MAX_FAILED_INDEXES_HIGH_COMPLETIONS) errs.push(invalid(maxPath, max, `must be less than or equal to ${MAX_FAILED_INDEXES_HIGH_COMPLETIONS} ${above}`));
  }
  return errs;
}

/** validatePodFailurePolicy (and validatePodReplacementPolicy's rule that it needs `Failed`). */
export function validatePodFailurePolicy(spec: JobSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const rules = spec.podFailurePolicy?.rules ?? [];
  const rulesPath = child(path, 'rules');
  if (rules.length > MAX_POD_FAILURE_POLICY_RULES) errs.push(tooMany(rulesPath, rules.length, MAX_POD_FAILURE_POLICY_RULES));
  const podSpec = spec.template?.spec;
  const names = new Set([...(podSpec?.containers ?? []), ...(podSpec?.initContainers ?? [])].map((c) => c.name));
  rules.forEach((rule, i) => errs.push(...validateRule(spec, rule, index(rulesPath, i), names)));
  return errs;
}

function validateRule(spec: JobSpec, rule: PodFailurePolicyRule, path: string, names: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  const actionPath = child(path, 'action');
  if (!rule.action) errs.push(required(actionPath, `valid values: ["${ACTIONS.join('" "')}"]`));
  else if (rule.action === 'FailIndex') {
    if (spec.backoffLimitPerIndex === undefined) errs.push(invalid(actionPath, rule.action, 'requires the backoffLimitPerIndex to be set'));
  } else if (!ACTIONS.includes(rule.action)) errs.push(notSupported(actionPath, rule.action, ACTIONS));
  const conditions = rule.onPodConditions ?? [];
  if (rule.onExitCodes) errs.push(...validateOnExitCodes(rule.onExitCodes, child(path, 'onExitCodes'), names));
  if (conditions.length) errs.push(...validateOnPodConditions(conditions, child(path, 'onPodConditions')));
  if (rule.onExitCodes && conditions.length) errs.push(invalidNoValue(path, 'specifying both OnExitCodes and OnPodConditions is not supported'));
  if (!rule.onExitCodes && !conditions.length) errs.push(invalidNoValue(path, 'specifying one of OnExitCodes and OnPodConditions is required'));
  return errs;
}

function validateOnPodConditions(patterns: PodFailurePolicyOnPodConditionsPattern[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (patterns.length > MAX_CONDITION_PATTERNS) errs.push(tooMany(path, patterns.length, MAX_CONDITION_PATTERNS));
  patterns.forEach((p, j) => {
    const pPath = index(path, j);
    for (const m of isQualifiedName(p.type ?? '')) errs.push(invalid(child(pPath, 'type'), p.type ?? '', m));
    const statusPath = child(pPath, 'status');
    if (!p.status) errs.push(required(statusPath, `valid values: ["${CONDITION_STATUSES.join('" "')}"]`));
    else if (!CONDITION_STATUSES.includes(p.status)) errs.push(notSupported(statusPath, p.status, CONDITION_STATUSES));
  });
  return errs;
}

function validateOnExitCodes(req: PodFailurePolicyOnExitCodesRequirement, path: string, names: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  const opPath = child(path, 'operator');
  if (!req.operator) errs.push(required(opPath, `valid values: ["${OPERATORS.join('" "')}"]`));
  else if (!OPERATORS.includes(req.operator)) errs.push(notSupported(opPath, req.operator, OPERATORS));
  if (req.containerName !== undefined && !names.has(req.containerName)) {
    errs.push(invalid(child(path, 'containerName'), req.containerName, 'must be one of the container or initContainer names in the pod template'));
  }
  const values = req.values ?? [];
  const valuesPath = child(path, 'values');
  if (values.length === 0) errs.push(invalid(valuesPath, values, 'at least one value is required'));
  else if (values.length > MAX_EXIT_CODE_VALUES) errs.push(tooMany(valuesPath, values.length, MAX_EXIT_CODE_VALUES));
  const seen = new Set<number>();
  let ordered = true;
  values.forEach((v, j) => {
    if (req.operator === 'In' && v === 0) errs.push(invalid(index(valuesPath, j), v, 'must not be 0 for the In operator'));
    if (seen.has(v)) errs.push(duplicate(index(valuesPath, j), v));
    seen.add(v);
    if (j > 0 && values[j - 1]! > v) ordered = false;
  });
  if (!ordered) errs.push(invalid(valuesPath, values, 'must be ordered'));
  return errs;
}

/** validateSuccessPolicy: only for Indexed Jobs; rules need succeededIndexes or succeededCount. */
export function validateSuccessPolicy(spec: JobSpec, path: string): FieldError[] {
  const policy = spec.successPolicy;
  if (!policy) return [];
  if (spec.completionMode !== 'Indexed') return [invalid(path, policy, 'requires indexed completion mode')];
  const errs: FieldError[] = [];
  const rules = policy.rules ?? [];
  const rulesPath = child(path, 'rules');
  if (rules.length === 0) errs.push(required(rulesPath, 'at least one rules must be specified when the successPolicy is specified'));
  if (rules.length > MAX_SUCCESS_POLICY_RULES) errs.push(tooMany(rulesPath, rules.length, MAX_SUCCESS_POLICY_RULES));
  rules.forEach((rule, i) => errs.push(...validateSuccessRule(rule, spec.completions ?? 0, index(rulesPath, i))));
  return errs;
}

function validateSuccessRule(rule: SuccessPolicyRule, completions: number, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (rule.succeededCount === undefined && rule.succeededIndexes === undefined) errs.push(required(path, 'at least one of succeededCount or succeededIndexes must be specified'));
  let total = 0;
  if (rule.succeededIndexes !== undefined) {
    const ixPath = child(path, 'succeededIndexes');
    if (rule.succeededIndexes.length > MAX_SUCCEEDED_INDEXES_LENGTH) errs.push(tooLong(ixPath, MAX_SUCCEEDED_INDEXES_LENGTH));
    const parsed = indexesFormat(rule.succeededIndexes, completions);
    if (typeof parsed === 'string') errs.push(invalid(ixPath, rule.succeededIndexes, `error parsing succeededIndexes: ${parsed}`));
    else total = parsed;
  }
  if (rule.succeededCount !== undefined) {
    const countPath = child(path, 'succeededCount');
    errs.push(...nonNegative(rule.succeededCount, countPath));
    if (rule.succeededCount > completions) errs.push(invalid(countPath, rule.succeededCount, `must be less than or equal to ${completions} (the number of specified completions)`));
    if (rule.succeededIndexes !== undefined && rule.succeededCount > total) {
      errs.push(invalid(countPath, rule.succeededCount, `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`));
    }
  }
  return errs;
}

/** validateIndexesFormat: how many indexes "1,3-5" names, or why it cannot be read. */
export function indexesFormat(text: string, completions: number): number | string {
  if (text === '') return 0;
  let last: number | undefined;
  let total = 0;
  const toInt = (s: string): number | string => (/^[+-]?\d+$/.test(s) && Math.abs(Number(s)) <= 2147483647 ? Number(s) : `cannot convert string to integer for index: "${s}"`);
  for (const part of text.split(',')) {
    const limits = part.split('-');
    if (limits.length > 2) return `the fragment "${part}" violates the requirement that an index interval can have at most two parts separated by '-'`;
    for (const [k, s] of limits.entries()) {
      const x = toInt(s);
      if (typeof x === 'string') return x;
      if (x >= completions) return `too large index: "${s}"`;
      if (last !== undefined && last >= x) return `non-increasing order, previous: ${last}, current: ${x}`;
      total += k === 0 ? 1 : x - last!;
      last = x;
    }
  }
  return total;
}
