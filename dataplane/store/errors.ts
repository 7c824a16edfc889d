/**
 * Store errors, worded as the apiserver words them so `knet` prints what kubectl would.
 */
export type StoreErrorReason = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Invalid' | 'Unavailable';

export class StoreError extends Error {
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
    EndpointSlice: 'discovery.k8s.io',
    Ingress: 'networking.k8s.io',
    IngressClass: 'networking.k8s.io',
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

export function invalid(kind: string, name: string, causes: string[]): StoreError {
  return new StoreError('Invalid', `${kind} "${name}" is invalid: ${causes.join(', ')}`, causes);
}
