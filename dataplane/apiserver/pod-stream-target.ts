/**
 * Where `pods/exec` and `pods/attach` lead, as kube-apiserver works it out before proxying to
 * the kubelet (pkg/registry/core/pod/strategy.go streamLocation, validateContainer,
 * streamParams): the pod (404 `pods "x" not found`), its container — named and existing
 * (`container x is not valid for pod y`, init and ephemeral containers count), or the only one
 * (`a container name must be specified for pod y, choose one of: [a b]`) — and its node (`pod y
 * does not have a host assigned`), then the kubelet's path with PodExecOptions /
 * PodAttachOptions as query parameters. Whether the container runs is the node's to say.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ApiContext } from './api-request.js';
import { streamPath } from '../base/remotecommand/node-endpoint.js';
import { badRequest, notFound } from './status.js';

export type PodStreamKind = 'exec' | 'attach';

export const POD_STREAMS: ReadonlySet<string> = new Set<PodStreamKind>(['exec', 'attach']);

export interface PodStreamTarget {
  node: string;
  /** The kubelet's path and query: `/exec/ns/pod/container?command=…&stdout=1`. */
  path: string;
}

/**
 * A query boolean as the API's parameter conversion reads it: absent is the default, "0" and
 * "false" (any case) are false, anything else is true (apimachinery Convert_Slice_string_To_bool).
 */
function queryBool(q: URLSearchParams, name: string, dflt: boolean): boolean {
  const v = q.get(name);
  if (v === null) return dflt;
  return !(v === '0' || v.toLowerCase() === 'false');
}

export function podStreamTarget(ctx: ApiContext, kind: PodStreamKind, namespace: string, name: string, q: URLSearchParams): PodStreamTarget {
  const pod = ctx.cache.get('Pod', namespace, name) as Pod | undefined;
  if (!pod) throw notFound({ group: '', plural: 'pods' }, name);
  const container = validateContainer(pod, q.get('container') ?? '');
  const node = pod.spec?.nodeName;
  if (!node) throw badRequest(`pod ${name} does not have a host assigned`);
  const path = streamPath(kind, {
    namespace,
    pod: name,
    container,
    command: kind === 'exec' ? q.getAll('command') : undefined,
    stdin: queryBool(q, 'stdin', false),
    // PodExecOptions and PodAttachOptions default stdout and stderr to true (core/v1 defaults).
    stdout: queryBool(q, 'stdout', true),
    stderr: queryBool(q, 'stderr', true),
    tty: queryBool(q, 'tty', false),
  });
  return { node, path };
}

function validateContainer(pod: Pod, container: string): string {
  const name = pod.metadata?.name ?? '';
  const containers = pod.spec?.containers ?? [];
  const all = [...containers, ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c) => c.name);
  if (container) {
    if (!all.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
    return container;
  }
  if (containers.length === 1) return containers[0]!.name;
  if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
  throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${all.join(' ')}]`);
}
