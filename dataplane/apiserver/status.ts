/**
 * metav1.Status, the body of every API error, as k8s.io/apimachinery/pkg/api/errors builds it:
 * a reason and code kubectl turns into `Error from server (NotFound): pods "x" not found`, and
 * details naming the object (the plural resource for NotFound/AlreadyExists/Conflict, the Kind
 * for Invalid) with one cause per field error.
 */
import type { FieldError } from '../base/model/validate/field-error.js';
import { StoreError } from '../base/store/errors.js';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

const CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** An API error on its way to the client: thrown anywhere below the shell, written as its Status. */
export class ApiError extends Error {
  constructor(
    readonly status: Status,
    /** Extra response headers (Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super(status.message);
    this.name = 'ApiError';
  }
  get code(): number {
    return this.status.code;
  }
}

export function failure(reason: StatusReason, message: string, details?: StatusDetails): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code: CODES[reason] };
}

export function success(details?: StatusDetails): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', ...(details ? { details } : {}), code: 200 };
}

export const apiError = (reason: StatusReason, message: string, details?: StatusDetails): ApiError => new ApiError(failure(reason, message, details));

/** A resource named as the apiserver names it in messages: plural, and the group when it has one. */
export interface ResourceRef {
  group: string;
  plural: string;
}

const qualified = (r: ResourceRef) => (r.group ? `${r.plural}.${r.group}` : r.plural);

export function notFound(r: ResourceRef, name: string): ApiError {
  return apiError('NotFound', `${qualified(r)} "${name}" not found`, { name, group: r.group || undefined, kind: r.plural });
}

export function alreadyExists(r: ResourceRef, name: string): ApiError {
  return apiError('AlreadyExists', `${qualified(r)} "${name}" already exists`, { name, group: r.group || undefined, kind: r.plural });
}

export function conflict(r: ResourceRef, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
  return apiError('Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, { name, group: r.group || undefined, kind: r.plural });
}

export function badRequest(message: string): ApiError {
  return apiError('BadRequest', message);
}

const CAUSE_REASONS: Record<string, string> = {
  Required: 'FieldValueRequired',
  Invalid: 'FieldValueInvalid',
  Unsupported: 'FieldValueNotSupported',
  Duplicate: 'FieldValueDuplicate',
  Forbidden: 'FieldValueForbidden',
  TooLong: 'FieldValueTooLong',
  TooMany: 'FieldValueTooMany',
  NotFound: 'FieldValueNotFound',
  Unknown: 'FieldValueInvalid',
};

/** One cause per field error; `message` is the error without its field, as field.Error.ErrorBody() is. */
export function causesOf(errors: readonly FieldError[]): StatusCause[] {
  return errors.map((e) => ({
    reason: CAUSE_REASONS[e.type] ?? 'FieldValueInvalid',
    message: e.field && e.message.startsWith(`${e.field}: `) ? e.message.slice(e.field.length + 2) : e.message,
    field: e.field,
  }));
}

/**
 * 422 Invalid: `Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: …`, or with
 * several errors `… is invalid: [a: …, b: …]` (errors.NewInvalid).
 */
export function invalid(kind: string, group: string, name: string, errors: readonly FieldError[]): ApiError {
  const lines = errors.map((e) => e.message);
  const what = group ? `${kind}.${group}` : kind;
  const body = lines.length === 1 ? lines[0] : `[${lines.join(', ')}]`;
  return apiError('Invalid', `${what} ${JSON.stringify(name)} is invalid: ${body}`, { name, group: group || undefined, kind, causes: causesOf(errors) });
}

/** A "field: text" line (the Service allocator's and the store's) as a field error. */
export function fieldErrorOfLine(line: string): FieldError {
  const at = line.indexOf(': ');
  const field = at > 0 && !line.slice(0, at).includes(' ') ? line.slice(0, at) : '';
  return { field, type: /: Required value/.test(line) ? 'Required' : /: Forbidden/.test(line) ? 'Forbidden' : 'Invalid', message: line };
}

/**
 * A StoreError (from the shared write path) as the Status the apiserver answers with. Messages
 * are already worded as the apiserver words them; the resource names its group.
 */
export function statusOfStoreError(err: StoreError, r: ResourceRef, kind: string, name: string): ApiError {
  switch (err.reason) {
    case 'NotFound':
      return err.namespace !== undefined ? notFound({ group: '', plural: 'namespaces' }, err.namespace) : apiError('NotFound', err.message, { name, group: r.group || undefined, kind: r.plural });
    case 'AlreadyExists':
      return apiError('AlreadyExists', err.message, { name, group: r.group || undefined, kind: r.plural });
    case 'Conflict':
      return apiError('Conflict', err.message, { name, group: r.group || undefined, kind: r.plural });
    case 'Invalid':
      return invalid(kind, r.group, name, err.fieldErrors ?? err.causes.map(fieldErrorOfLine));
    case 'BadRequest':
      return apiError('BadRequest', err.message);
    case 'Forbidden': {
      // A create into a Terminating namespace carries NamespaceLifecycle's cause, which controllers key on.
      const causes = err.namespace !== undefined ? [{ reason: 'NamespaceTerminating', message: `namespace ${err.namespace} is being terminated`, field: 'metadata.namespace' }] : undefined;
      return apiError('Forbidden', err.message, { name, group: r.group || undefined, kind: r.plural, ...(causes ? { causes } : {}) });
    }
    case 'Unavailable':
      return apiError('ServiceUnavailable', err.message);
  }
}

/** Anything thrown while handling a request, as an ApiError; unexpected errors are 500s that say what happened. */
export function toApiError(err: unknown, r?: ResourceRef, kind = '', name = ''): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof StoreError) return statusOfStoreError(err, r ?? { group: '', plural: '' }, kind, name);
  const e = err as Error;
  if (/ECONNREFUSED|Connection is closed|Reached the max retries|MaxRetriesPerRequest|ETIMEDOUT/i.test(String(e?.message))) {
    return new ApiError(failure('ServiceUnavailable', `the state store is unavailable: ${e.message}`, { retryAfterSeconds: 1 }), { 'Retry-After': '1' });
  }
  return apiError('InternalError', `Internal error occurred: ${e?.message ?? String(err)}`);
}
