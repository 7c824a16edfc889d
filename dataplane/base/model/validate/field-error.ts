/**
 * Validation errors as the apiserver reports them (k8s.io/apimachinery/pkg/util/validation/field):
 * each error names a field path, a type and, usually, the bad value and a detail, and prints as
 * one line, e.g.
 *
 *   spec.ports[1].name: Required value
 *   spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"
 *   spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`
 *
 * Values print the way Go's validation prints them (strings quoted, numbers bare, maps and
 * slices as Go literals), so messages read like the ones people search for.
 */

export type FieldErrorType =
  | 'Required'
  | 'Invalid'
  | 'Unsupported'
  | 'Duplicate'
  | 'Forbidden'
  | 'Unknown'
  | 'TooMany'
  | 'TooLong'
  | 'NotFound';

export interface FieldError {
  /** Path of the field, e.g. "spec.ports[0].port"; "" for the whole object. */
  field: string;
  type: FieldErrorType;
  value?: unknown;
  detail?: string;
  /** The full kubectl-style line. */
  message: string;
}

/** A value already written as Go would print it (structs, typed nils). */
export class GoLiteral {
  constructor(readonly text: string) {}
}

const quote = (s: string): string => JSON.stringify(s);

/** Go's `%#v`-ish rendering of a JSON value, as field.Error prints bad values. */
export function goValue(v: unknown): string {
  if (v instanceof GoLiteral) return v.text;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) {
    if (v.every((e) => typeof e === 'string')) return `[]string{${v.map((e) => quote(e as string)).join(', ')}}`;
    if (v.every((e) => typeof e === 'number')) return `[]int32{${v.join(', ')}}`;
    return JSON.stringify(v);
  }
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.every(([, e]) => typeof e === 'string')) {
      const body = entries
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, e]) => `${quote(k)}:${quote(e as string)}`)
        .join(', ');
      return `map[string]string{${body}}`;
    }
    return JSON.stringify(v);
  }
  return String(v);
}

const TYPE_TEXT: Record<FieldErrorType, string> = {
  Required: 'Required value',
  Invalid: 'Invalid value',
  Unsupported: 'Unsupported value',
  Duplicate: 'Duplicate value',
  Forbidden: 'Forbidden',
  Unknown: 'Unknown field',
  TooMany: 'Too many',
  TooLong: 'Too long',
  NotFound: 'Not found',
};

function make(field: string, type: FieldErrorType, hasValue: boolean, value: unknown, detail: string): FieldError {
  let body = TYPE_TEXT[type];
  if (hasValue) body += `: ${goValue(value)}`;
  if (detail) body += `: ${detail}`;
  const err: FieldError = { field, type, message: field ? `${field}: ${body}` : body };
  if (hasValue) err.value = value instanceof GoLiteral ? value.text : value;
  if (detail) err.detail = detail;
  return err;
}

export function required(field: string, detail = ''): FieldError {
  return make(field, 'Required', false, undefined, detail);
}

export function invalid(field: string, value: unknown, detail: string): FieldError {
  return make(field, 'Invalid', true, value, detail);
}

/** Go's field.NotSupported: the detail lists the supported values, quoted. */
export function notSupported(field: string, value: unknown, supported: readonly string[]): FieldError {
  const detail = supported.length ? `supported values: ${supported.map(quote).join(', ')}` : '';
  return make(field, 'Unsupported', true, value, detail);
}

export function duplicate(field: string, value: unknown): FieldError {
  return make(field, 'Duplicate', true, value, '');
}

export function forbidden(field: string, detail: string): FieldError {
  return make(field, 'Forbidden', false, undefined, detail);
}

export function notFound(field: string, value: unknown, detail = ''): FieldError {
  return make(field, 'NotFound', true, value, detail);
}

export function tooMany(field: string, actual: number, max: number): FieldError {
  const err = make(field, 'TooMany', true, actual, `must have at most ${max} items`);
  return err;
}

export function tooLong(field: string, max: number): FieldError {
  return make(field, 'TooLong', false, undefined, `may not be more than ${max} bytes`);
}

/** Strict decoding's wording: the path in quotes, no "field: " prefix. */
export function unknownField(field: string): FieldError {
  return { field, type: 'Unknown', message: `unknown field ${quote(field)}` };
}

/** Child paths the way field.Path builds them. */
export const child = (path: string, ...names: string[]): string =>
  names.reduce((p, n) => (p === '' ? n : `${p}.${n}`), path);
export const index = (path: string, i: number): string => `${path}[${i}]`;
export const key = (path: string, k: string): string => `${path}[${k}]`;
