/**
 * Where a pod's service-account files are, and the hook its token comes from. The files —
 * `token`, `ca.crt`, `namespace` at /var/run/secrets/kubernetes.io/serviceaccount/ — are the
 * `kube-api-access-*` projected volume the ServiceAccount admission plugin adds to every pod
 * (base/admission/service-account.ts), rendered like any projected volume (volume-files.ts):
 * so a pod with `automountServiceAccountToken: false` has none, as in a cluster.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { SERVICE_ACCOUNT_MOUNT_PATH } from '../../base/admission/service-account.js';

export const SERVICE_ACCOUNT_DIR = SERVICE_ACCOUNT_MOUNT_PATH;

/** What the node offers pods' projected `serviceAccountToken` sources (../pod-tokens.ts). */
export interface ServiceAccountIssuer {
  /**
   * The pod's current token for the audience and lifetime (TokenRequest's), or undefined when
   * none can be issued. What a `projected` volume's `serviceAccountToken` source holds
   * (volume-files.ts), in the simulated shell and in a program's volume on disk
   * (../runtime/pod-volumes-dir.ts). Asked again at every volume sync (2 s): it returns the same
   * token until it needs renewing (at 80% of its lifetime, ../pod-tokens.ts).
   */
  token?(pod: Pod, audience: string | undefined, expirationSeconds: number | undefined): string | undefined;
}
