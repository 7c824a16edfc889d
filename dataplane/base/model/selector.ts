/**
 * Label selectors as Kubernetes evaluates them (k8s.io/apimachinery/pkg/labels and
 * metav1.LabelSelectorAsSelector):
 *  - a LabelSelector object (matchLabels + matchExpressions In/NotIn/Exists/DoesNotExist);
 *    a missing selector matches nothing, an empty one matches everything;
 *  - a Service-style equality map (`spec.selector`); missing or empty selects nothing,
 *    because the apiserver's storage does not keep an empty map apart from a missing one;
 *  - the string syntax of `kubectl get -l`: `a=b,c!=d,e in (x,y),f notin (z),g,!h,i>3`.
 * Everything reduces to a list of requirements that are ANDed.
 */
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';

export type Labels = Record<string, string> | undefined;

export type Operator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Equals' | 'NotEquals' | 'Gt' | 'Lt';

export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

export class SelectorParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorParseError';
  }
}

/** Whether one requirement holds for a label set. */
export function matchesRequirement(req: Requirement, labels: Labels): boolean {
  const l = labels ?? {};
  const has = Object.prototype.hasOwnProperty.call(l, req.key);
  const value = has ? l[req.key]! : undefined;
  switch (req.operator) {
    case 'In':
    case 'Equals':
      return has && req.values.includes(value!);
    case 'NotIn':
    case 'NotEquals':
      // As in Kubernetes: a missing key satisfies "!=" and "notin".
      return !has || !req.values.includes(value!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || !/^-?\d+$/.test(value!)) return false;
      const n = Number(value);
      const bound = Number(req.values[0]);
      return req.operator === 'Gt' ? n > bound : n < bound;
    }
  }
}

export function matchesRequirements(reqs: Requirement[], labels: Labels): boolean {
  return reqs.every((r) => matchesRequirement(r, labels));
}

/**
 * A LabelSelector object as requirements; undefined when the selector cannot match anything
 * (missing, or an invalid operator, which LabelSelectorAsSelector rejects).
 */
export function labelSelectorRequirements(sel: LabelSelector | undefined): Requirement[] | undefined {
  if (!sel) return undefined;
  const reqs: Requirement[] = Object.entries(sel.matchLabels ?? {}).map(([key, v]) => ({ key, operator: 'In', values: [v] }));
  for (const e of sel.matchExpressions ?? []) {
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) return undefined;
        reqs.push({ key: e.key, operator: e.operator, values });
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) return undefined;
        reqs.push({ key: e.key, operator: e.operator, values: [] });
        break;
      default:
        return undefined;
    }
  }
  return reqs;
}

/** metav1.LabelSelector semantics: missing matches nothing, `{}` matches everything. */
export function matchesLabelSelector(sel: LabelSelector | undefined, labels: Labels): boolean {
  const reqs = labelSelectorRequirements(sel);
  return reqs !== undefined && matchesRequirements(reqs, labels);
}

/** A Service's `spec.selector`: every pair must be present; missing or empty selects nothing. */
export function matchesServiceSelector(selector: Record<string, string> | undefined, labels: Labels): boolean {
  if (!hasServiceSelector(selector)) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector!)) if (l[k] !== v) return false;
  return true;
}

export function hasServiceSelector(selector: Record<string, string> | undefined): boolean {
  return selector !== undefined && selector !== null && Object.keys(selector).length > 0;
}

/** kubectl's rendering of requirements: `app=web,tier in (a,b),!legacy`. */
export function formatRequirements(reqs: Requirement[]): string {
  return reqs
    .map((r) => {
      switch (r.operator) {
        case 'Equals':
          return `${r.key}=${r.values[0]}`;
        case 'NotEquals':
          return `${r.key}!=${r.values[0]}`;
        case 'In':
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
        case 'NotIn':
          return `${r.key} notin (${r.values.join(',')})`;
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
        case 'Gt':
          return `${r.key}>${r.values[0]}`;
        case 'Lt':
          return `${r.key}<${r.values[0]}`;
      }
    })
    .join(',');
}

export function formatLabelSelector(sel: LabelSelector | undefined): string {
  if (!sel) return '<none>';
  const reqs = labelSelectorRequirements(sel);
  if (!reqs) return '<error>';
  return reqs.length ? formatRequirements(reqs) : '<none>';
}

// ---- the `-l` string syntax ---------------------------------------------------------------

type Token =
  | { t: 'id'; v: string }
  | { t: 'op'; v: '=' | '==' | '!=' | '!' | '(' | ')' | ',' | '>' | '<' }
  | { t: 'in' }
  | { t: 'notin' }
  | { t: 'end' };

const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);

function lex(input: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (SPECIAL.has(c)) {
      const two = input.slice(i, i + 2);
      if (two === '==' || two === '!=') {
        out.push({ t: 'op', v: two });
        i += 2;
      } else {
        out.push({ t: 'op', v: c as '=' });
        i++;
      }
      continue;
    }
    let j = i;
    while (j < input.length && !SPECIAL.has(input[j]!) && !/\s/.test(input[j]!)) j++;
    const word = input.slice(i, j);
    if (word === 'in') out.push({ t: 'in' });
    else if (word === 'notin') out.push({ t: 'notin' });
    else out.push({ t: 'id', v: word });
    i = j;
  }
  out.push({ t: 'end' });
  return out;
}

function show(tok: Token): string {
  switch (tok.t) {
    case 'id':
    case 'op':
      return `'${tok.v}'`;
    case 'in':
      return "'in'";
    case 'notin':
      return "'notin'";
    case 'end':
      return 'end of string';
  }
}

const NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkKey(key: string): void {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const bad = (why: string) => new SelectorParseError(`unable to parse requirement: invalid label key "${key}": ${why}`);
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN_RE.test(prefix))) {
    throw bad('prefix part must be a lowercase RFC 1123 subdomain');
  }
  if (name.length === 0) throw bad('name part must be non-empty');
  if (name.length > 63) throw bad('name part must be no more than 63 characters');
  if (!NAME_RE.test(name)) throw bad("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
}

function checkValue(value: string): void {
  if (value.length > 63 || (value !== '' && !NAME_RE.test(value))) {
    throw new SelectorParseError(
      `unable to parse requirement: invalid label value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
  }
}

/**
 * Parses a `kubectl -l` selector string. The empty string selects everything. Throws
 * SelectorParseError with kubectl-like wording on bad input.
 */
export function parseSelector(input: string): Requirement[] {
  const toks = lex(input);
  let pos = 0;
  const peek = () => toks[pos]!;
  const next = () => toks[pos++]!;
  const expected = (what: string) => new SelectorParseError(`unable to parse requirement: found ${show(peek())}, expected: ${what}`);
  const reqs: Requirement[] = [];
  if (peek().t === 'end') return reqs;

  for (;;) {
    let negate = false;
    if (peek().t === 'op' && (peek() as { v: string }).v === '!') {
      next();
      negate = true;
    }
    const keyTok = peek();
    if (keyTok.t !== 'id') throw expected('identifier');
    next();
    const key = keyTok.v;
    checkKey(key);
    const op = peek();
    if (negate) {
      if (!(op.t === 'end' || (op.t === 'op' && op.v === ','))) throw expected("',' or end of string");
      reqs.push({ key, operator: 'DoesNotExist', values: [] });
    } else if (op.t === 'end' || (op.t === 'op' && op.v === ',')) {
      reqs.push({ key, operator: 'Exists', values: [] });
    } else if (op.t === 'op' && (op.v === '=' || op.v === '==' || op.v === '!=')) {
      next();
      const v = peek();
      // `a=` is a valid requirement on the empty value.
      const value = v.t === 'id' ? (next(), v.v) : v.t === 'end' || (v.t === 'op' && v.v === ',') ? '' : undefined;
      if (value === undefined) throw expected('identifier');
      checkValue(value);
      reqs.push({ key, operator: op.v === '!=' ? 'NotEquals' : 'Equals', values: [value] });
    } else if (op.t === 'op' && (op.v === '>' || op.v === '<')) {
      next();
      const v = peek();
      if (v.t !== 'id' || !/^-?\d+$/.test(v.v)) throw expected('an integer');
      next();
      reqs.push({ key, operator: op.v === '>' ? 'Gt' : 'Lt', values: [v.v] });
    } else if (op.t === 'in' || op.t === 'notin') {
      next();
      if (!(peek().t === 'op' && (peek() as { v: string }).v === '(')) throw expected("'('");
      next();
      const values: string[] = [];
      for (;;) {
        const v = peek();
        if (v.t === 'id') {
          next();
          values.push(v.v);
        } else if (v.t === 'op' && (v.v === ',' || v.v === ')')) {
          values.push(''); // an empty member, as in `a in (,b)` or `a in ()`
        } else {
          throw expected("',', ')' or identifier");
        }
        const sep = next();
        if (sep.t === 'op' && sep.v === ')') break;
        if (!(sep.t === 'op' && sep.v === ',')) {
          pos--;
          throw expected("',' or ')'");
        }
      }
      values.forEach(checkValue);
      reqs.push({ key, operator: op.t === 'in' ? 'In' : 'NotIn', values: [...new Set(values)].sort() });
    } else {
      throw expected("'=', '!=', '==', 'in', 'notin', '>', '<', ',' or end of string");
    }
    const sep = next();
    if (sep.t === 'end') break;
    if (!(sep.t === 'op' && sep.v === ',')) {
      pos--;
      throw expected("',' or end of string");
    }
  }
  return reqs;
}
