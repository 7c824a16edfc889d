/**
 * Store errors, worded as the apiserver words them so `knet` prints what kubectl would.
 */
import type { FieldError } from '../model/validate/field-error.js';

export type StoreErrorReason = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Invalid' | 'BadRequest' | 'Forbidden' | 'Unavailable';

export class StoreError extends Error {
  /** For Invalid: the field errors themselves (field, type, message), when the write path has them. */
  fieldErrors?: FieldError[];
  /** For NotFound: set when what is missing is the object's namespace, not the object; for Forbidden: the Terminating namespace that refused a create. */
  namespace?: string;

  constructor(
    readonly reason: StoreErrorReason,
    message: string,
    /** For Invalid: the individual field errors, each a full "field: reason" line. */
    readonly causes: string[] = [],
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** "services", "endpointslices.discovery.k8s.io": the resource name kubectl prints in errors. */
export function resourceName(kind: string): string {
  const plural = kind.endsWith('s') ? `${kind.toLowerCase()}es` : kind.endsWith('y') ? `${kind.toLowerCase().slice(0, -1)}ies` : `${kind.toLowerCase()}s`;
  const group: Record<string, string> = {
    Deployment: 'apps',
    ReplicaSet: 'apps',
    StatefulSet: 'apps',
    DaemonSet: 'apps',
    Job: 'batch',
    CronJob: 'batch',
    EndpointSlice: 'discovery.k8s.io',
    Ingress: 'networking.k8s.io',
    IngressClass: 'networking.k8s.io',
    NetworkPolicy: 'networking.k8s.io',
    Lease: 'coordination.k8s.io',
    HorizontalPodAutoscaler: 'autoscaling',
    PodDisruptionBudget: 'policy',
    ClusterRole: 'rbac.authorization.k8s.io',
    ClusterRoleBinding: 'rbac.authorization.k8s.io',
    Role: 'rbac.authorization.k8s.io',
    RoleBinding: 'rbac.authorization.k8s.io',
    PriorityClass: 'scheduling.k8s.io',
    StorageClass: 'storage.k8s.io',
  };
  const name = kind === 'Endpoints' ? 'endpoints' : plural;
  return group[kind] ? `${name}.${group[kind]}` : name;
}

export function notFound(kind: string, name: string): StoreError {
  return new StoreError('NotFound', `${resourceName(kind)} "${name}" not found`);
}

export function alreadyExists(kind: string, name: string): StoreError {
  return new StoreError('AlreadyExists', `${resourceName(kind)} "${name}" already exists`);
}

export function conflict(kind: string, name: string): StoreError {
  return new StoreError(
    'Conflict',
    `Operation cannot be fulfilled on ${resourceName(kind)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
  );
}

export function invalid(kind: string, name: string, causes: string[], fieldErrors?: FieldError[]): StoreError {
  const err = new StoreError('Invalid', `${kind} "${name}" is invalid: ${causes.join(', ')}`, causes);
  if (fieldErrors) err.fieldErrors = fieldErrors;
  return err;
}

/** A write into a namespace that does not exist: `namespaces "x" not found`, as the apiserver says it. */
export function namespaceNotFound(namespace: string): StoreError {
  const err = new StoreError('NotFound', `namespaces "${namespace}" not found`);
  err.namespace = namespace;
  return err;
}

/** Error names ioredis uses when it has no connection to send a command on. */
const CONNECTION_ERROR_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether an error says the store could not be reached (no connection, or it broke), as
 * opposed to an answer from it (a Redis error reply, a StoreError).
 */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof StoreError) return false;
  if (CONNECTION_ERROR_NAMES.has(err.name)) return true;
  if (err.message === 'Connection is closed.' || err.message.startsWith("Stream isn't writeable") || err.message === 'Command timed out') return true;
  const code = (err as NodeJS.ErrnoException).code;
  return code !== undefined && CONNECTION_ERROR_CODES.has(code);
}

export interface StoreLocation {
  cluster: string;
  /** host:port (several, comma-separated, for Sentinel and Cluster URLs). */
  address: string;
  /** Started by `knet up` (which restarts it), rather than given with --redis. */
  embedded: boolean;
}

/** The one line a command prints when the store does not answer. */
export function storeNotAnswering(where: StoreLocation, cause: string): StoreError {
  const hint = where.embedded ? 'knet up restarts it' : 'knet does not run it: check that it is up';
  return new StoreError('Unavailable', `the state store of cluster "${where.cluster}" at ${where.address} is not answering (${hint}); ${cause}`);
}
