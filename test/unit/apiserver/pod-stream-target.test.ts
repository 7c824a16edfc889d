import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ApiContext } from '../../../dataplane/apiserver/api-request.js';
import { podStreamTarget } from '../../../dataplane/apiserver/pod-stream-target.js';
import type { ApiError } from '../../../dataplane/apiserver/status.js';

const pods: Pod[] = [
  { metadata: { namespace: 'default', name: 'one' }, spec: { nodeName: 'node-1', containers: [{ name: 'c' }] } },
  { metadata: { namespace: 'default', name: 'two' }, spec: { nodeName: 'node-2', containers: [{ name: 'a' }, { name: 'b' }], initContainers: [{ name: 'init' }] } },
  { metadata: { namespace: 'default', name: 'pending' }, spec: { containers: [{ name: 'c' }] } },
];
const ctx = { cache: { get: (_kind: string, ns: string, name: string) => pods.find((p) => p.metadata?.namespace === ns && p.metadata?.name === name) } } as unknown as ApiContext;
const q = (s: string) => new URLSearchParams(s);
const refusal = (fn: () => unknown): { code: number; reason?: string; message?: string } => {
  try {
    fn();
  } catch (err) {
    const s = (err as ApiError).status;
    return { code: s.code, reason: s.reason, message: s.message };
  }
  throw new Error('not refused');
};

describe('pods/exec and pods/attach targets, as kube-apiserver works them out', () => {
  it("defaults the only container and forwards PodExecOptions as the kubelet's query", () => {
    expect(podStreamTarget(ctx, 'exec', 'default', 'one', q('command=ls&command=-l&stdout=true&stderr=true'))).toEqual({ node: 'node-1', path: '/exec/default/one/c?command=ls&command=-l&stdout=1&stderr=1' });
    // stdout and stderr default to true; "false" and "0" are false, anything else true; tty drops stderr.
    expect(podStreamTarget(ctx, 'exec', 'default', 'one', q('command=sh&stdin=yes&tty=1')).path).toBe('/exec/default/one/c?command=sh&stdin=1&stdout=1&tty=1');
    expect(podStreamTarget(ctx, 'attach', 'default', 'two', q('container=b&stdin=true&stdout=FALSE&stderr=0&command=x')).path).toBe('/attach/default/two/b?stdin=1&stdout=0&stderr=0');
    expect(podStreamTarget(ctx, 'exec', 'default', 'two', q('container=init&command=ls')).node).toBe('node-2');
  });

  it('refuses in the apiserver words kubectl prints', () => {
    expect(refusal(() => podStreamTarget(ctx, 'exec', 'default', 'nope', q('command=ls')))).toEqual({ code: 404, reason: 'NotFound', message: 'pods "nope" not found' });
    expect(refusal(() => podStreamTarget(ctx, 'exec', 'default', 'one', q('container=x&command=ls')))).toEqual({ code: 400, reason: 'BadRequest', message: 'container x is not valid for pod one' });
    expect(refusal(() => podStreamTarget(ctx, 'attach', 'default', 'two', q('')))).toEqual({ code: 400, reason: 'BadRequest', message: 'a container name must be specified for pod two, choose one of: [a b init]' });
    expect(refusal(() => podStreamTarget(ctx, 'exec', 'default', 'pending', q('command=ls')))).toEqual({ code: 400, reason: 'BadRequest', message: 'pod pending does not have a host assigned' });
  });
});
