/**
 * The decode stage: what makes the apiserver refuse a body before any validator runs. The body
 * must be an object of a kind and version it serves, with no field the schema lacks (strict
 * field validation), every value of its schema type, and base64 where Go expects []byte.
 */
import { isKind, KINDS } from '../object.js';
import { unknownFields } from '../schema/strict-fields.js';
import { typeErrors } from '../schema/type-check.js';
import { base64Error } from './base64.js';
import { invalid, key, required, unknownField, type FieldError } from './field-error.js';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function noMatch(field: 'kind' | 'apiVersion', kind: string, apiVersion: string): FieldError {
  return {
    field,
    type: 'Unsupported',
    value: field === 'kind' ? kind : apiVersion,
    message: `no matches for kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)}`,
  };
}

/** []byte maps: every value must be standard base64. */
function base64Errors(obj: Record<string, unknown>, field: string): FieldError[] {
  const data = obj[field];
  if (!isPlainObject(data)) return [];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(data)) {
    if (typeof v !== 'string') continue;
    const err = base64Error(v);
    if (err) errs.push(invalid(key(field, k), '<secret contents redacted>', err));
  }
  return errs;
}

/** Errors that stop a manifest before validation; [] when it decodes. */
export function decodeErrors(obj: unknown): FieldError[] {
  if (!isPlainObject(obj)) {
    const shape = obj === null || obj === undefined ? null : Array.isArray(obj) ? 'array' : typeof obj;
    return [invalid('', shape, 'must be a JSON object')];
  }
  const kind = obj.kind;
  const apiVersion = obj.apiVersion;
  const errs: FieldError[] = [];
  if (typeof kind !== 'string' || kind === '') errs.push(required('kind'));
  if (typeof apiVersion !== 'string' || apiVersion === '') errs.push(required('apiVersion'));
  if (errs.length) return errs;
  const k = kind as string;
  const v = apiVersion as string;
  if (!isKind(k)) return [noMatch('kind', k, v)];
  if (KINDS[k].apiVersion !== v) return [noMatch('apiVersion', k, v)];
  errs.push(...unknownFields(k, obj).map(unknownField));
  errs.push(...typeErrors(k, obj));
  if (k === 'Secret') errs.push(...base64Errors(obj, 'data'));
  if (k === 'ConfigMap') errs.push(...base64Errors(obj, 'binaryData'));
  return errs;
}
