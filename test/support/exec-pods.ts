/**
 * Pods that end-to-end tests stand inside, as YAML manifests: a busybox client that sleeps (its
 * commands run in the pod's simulated shell), a shell kept running by stdin: true (`kubectl run
 * -i`), and a program's container (a real image: its commands run as local processes).
 */
import type { PodSpec } from 'kubernetes-types/core/v1.js';

export interface ClientPodOptions {
  /** The container's environment. */
  env?: Record<string, string>;
  /** false: no service-account token mounted. */
  automountServiceAccountToken?: boolean;
}

/** busybox:1.36 sleeping forever in a container called client. */
export function clientPod(name = 'client', o: ClientPodOptions = {}): string {
  const env = o.env && Object.entries(o.env).map(([k, value]) => ({ name: k, value }));
  return pod(name, {
    ...(o.automountServiceAccountToken !== undefined && { automountServiceAccountToken: o.automountServiceAccountToken }),
    containers: [{ name: 'client', image: 'busybox:1.36', command: ['sleep', 'infinity'], ...(env && { env }) }],
  });
}

/** A shell (the image's default command) that stays up because its stdin is kept open. */
export function stdinShellPod(name: string, image: string): string {
  return pod(name, { containers: [{ name: 'sh', image, stdin: true }] });
}

/** debian:12-slim running `sleep 600` in a container called main. */
export function programPod(name = 'prog'): string {
  return pod(name, { containers: [{ name: 'main', image: 'debian:12-slim', command: ['sleep', '600'] }] });
}

/** One YAML document (JSON is YAML), to join with others by `---`. */
function pod(name: string, spec: PodSpec): string {
  return `${JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec })}\n`;
}
