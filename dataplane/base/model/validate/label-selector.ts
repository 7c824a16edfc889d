/**
 * LabelSelector validation (ValidateLabelSelector) and the matching the workload validators need
 * to check `selector` against template labels. Matching follows metav1.LabelSelectorAsSelector:
 * a missing selector matches nothing, an empty one matches everything.
 */
import type { LabelSelector, LabelSelectorRequirement } from 'kubernetes-types/meta/v1.js';
import { child, forbidden, index, invalid, required, GoLiteral, type FieldError } from './field-error.js';
import { isQualifiedName, isValidLabelValue } from './formats.js';
import { validateLabels } from './object-meta.js';

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

function validateRequirement(req: LabelSelectorRequirement, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) {
        errs.push(required(child(path, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      }
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) {
        errs.push(forbidden(child(path, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      }
      break;
    default:
      errs.push(invalid(child(path, 'operator'), req.operator ?? '', 'not a valid selector operator'));
  }
  for (const msg of isQualifiedName(req.key ?? '')) errs.push(invalid(child(path, 'key'), req.key ?? '', msg));
  values.forEach((v, i) => {
    for (const msg of isValidLabelValue(v)) errs.push(invalid(index(child(path, 'values'), i), v, msg));
  });
  return errs;
}

export function validateLabelSelector(sel: LabelSelector | undefined, path: string): FieldError[] {
  if (!sel) return [];
  const errs: FieldError[] = [];
  (sel.matchExpressions ?? []).forEach((req, i) => errs.push(...validateRequirement(req, index(child(path, 'matchExpressions'), i))));
  errs.push(...validateLabels(sel.matchLabels, child(path, 'matchLabels')));
  return errs;
}

/** True when the selector has no requirements at all (matches everything). */
export function isEmptySelector(sel: LabelSelector): boolean {
  return Object.keys(sel.matchLabels ?? {}).length + (sel.matchExpressions ?? []).length === 0;
}

/** Whether the selector converts to a labels.Selector (LabelSelectorAsSelector succeeds). */
export function isConvertibleSelector(sel: LabelSelector | undefined): boolean {
  if (!sel) return true;
  return (sel.matchExpressions ?? []).every(
    (r) => OPERATORS.includes(r.operator) && ((r.operator === 'In' || r.operator === 'NotIn') === ((r.values ?? []).length > 0)),
  );
}

export function selectorMatches(sel: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!sel) return false;
  const l = labels ?? {};
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(l, k);
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (!has(k) || l[k] !== v) return false;
  for (const r of sel.matchExpressions ?? []) {
    const vals = r.values ?? [];
    switch (r.operator) {
      case 'In':
        if (!has(r.key) || !vals.includes(l[r.key])) return false;
        break;
      case 'NotIn':
        if (has(r.key) && vals.includes(l[r.key])) return false;
        break;
      case 'Exists':
        if (!has(r.key)) return false;
        break;
      case 'DoesNotExist':
        if (has(r.key)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

const q = (s: string): string => JSON.stringify(s);

/** How Go prints a *v1.LabelSelector in "field is immutable" errors. */
export function goLabelSelector(sel: LabelSelector | undefined): GoLiteral {
  if (!sel) return new GoLiteral('(*v1.LabelSelector)(nil)');
  const ml = sel.matchLabels;
  const labels =
    ml === undefined
      ? 'map[string]string(nil)'
      : `map[string]string{${Object.keys(ml)
          .sort()
          .map((k) => `${q(k)}:${q(ml[k])}`)
          .join(', ')}}`;
  const me = sel.matchExpressions;
  const exprs =
    me === undefined
      ? '[]v1.LabelSelectorRequirement(nil)'
      : `[]v1.LabelSelectorRequirement{${me
          .map(
            (r) =>
              `v1.LabelSelectorRequirement{Key:${q(r.key ?? '')}, Operator:${q(r.operator ?? '')}, Values:${
                r.values === undefined ? '[]string(nil)' : `[]string{${r.values.map(q).join(', ')}}`
              }}`,
          )
          .join(', ')}}`;
  return new GoLiteral(`v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${exprs}}`);
}
