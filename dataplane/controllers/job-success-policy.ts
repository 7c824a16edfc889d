/**
 * An Indexed Job's `spec.successPolicy` (pkg/controller/job/success_policy.go): the Job has
 * succeeded once one rule is met — every index of `succeededIndexes` succeeded (or, with
 * `succeededCount` too, that many of them), or `succeededCount` indexes succeeded at all.
 * The message names the first rule met: "Matched rules at index 0".
 */
import type { SuccessPolicy } from 'kubernetes-types/batch/v1.js';
import { parseIndexes } from './job-indexes.js';

/** matchSuccessPolicy: the SuccessCriteriaMet message, or undefined while no rule is met. */
export function matchSuccessPolicy(policy: SuccessPolicy | undefined, completions: number, succeeded: ReadonlySet<number>): string | undefined {
  if (!policy || succeeded.size === 0) return undefined;
  for (const [i, rule] of policy.rules.entries()) {
    if (rule.succeededIndexes !== undefined) {
      const required = parseIndexes(rule.succeededIndexes, completions);
      // A rule whose indexes cannot be read (none below completions) is skipped, as upstream.
      if (required.size === 0) continue;
      let contains = 0;
      for (const ix of required) if (succeeded.has(ix)) contains++;
      if (contains === required.size || (rule.succeededCount !== undefined && contains >= rule.succeededCount)) return `Matched rules at index ${i}`;
    } else if (rule.succeededCount !== undefined && succeeded.size >= rule.succeededCount) {
      return `Matched rules at index ${i}`;
    }
  }
  return undefined;
}
