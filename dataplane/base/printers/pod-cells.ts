/**
 * The STATUS column of `kubectl get pods` (printers.go printPod); `knet describe` and the
 * cluster's readiness messages say a pod's state in the same words.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';

/** Terminating; else the reason of the last container that waits or has terminated; else the pod's reason or phase. */
export function podStatusText(p: Pod): string {
  if (p.metadata?.deletionTimestamp) return 'Terminating';
  let reason = p.status?.reason || p.status?.phase || 'Pending';
  for (const cs of p.status?.containerStatuses ?? []) {
    if (cs.state?.waiting?.reason) reason = cs.state.waiting.reason;
    else if (cs.state?.terminated) reason = cs.state.terminated.reason || (cs.state.terminated.signal ? `Signal:${cs.state.terminated.signal}` : `ExitCode:${cs.state.terminated.exitCode}`);
  }
  if (!p.spec?.nodeName && (p.status?.phase ?? 'Pending') === 'Pending') return 'Pending';
  return reason;
}
