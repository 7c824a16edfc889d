import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, exitStatus, frame, statusExitCode } from '../../../dataplane/base/remotecommand/protocol.js';
import { streamPath } from '../../../dataplane/base/remotecommand/node-endpoint.js';
import { defaultContainer } from '../../../dataplane/base/remotecommand/default-container.js';
import { parseExecRequest } from '../../../dataplane/node/exec/stream-request.js';
import { useTty } from '../../../dataplane/cli/commands/exec.js';

describe('the exec endpoint protocol', () => {
  it('reads the kubelet path and PodExecOptions, old flag names too; a terminal has no stderr', () => {
    expect(parseExecRequest(new URL('http://n/exec/shop/web-0/c?command=sh&command=-c&command=echo%20hi&stdin=1&tty=true'))).toEqual({
      kind: 'exec', namespace: 'shop', pod: 'web-0', container: 'c', command: ['sh', '-c', 'echo hi'], stdin: true, stdout: true, stderr: false, tty: true,
    });
    expect(parseExecRequest(new URL('http://n/exec/default/p?container=x&command=ls&input=1&error=0'))).toMatchObject({ container: 'x', stdin: true, stderr: false, tty: false });
    expect(parseExecRequest(new URL('http://n/attach/default/p/c?stdin=1&stdout=1&stderr=1&command=ignored'))).toMatchObject({ kind: 'attach', container: 'c', command: [], stdin: true });
    expect(parseExecRequest(new URL('http://n/exec/default/p/c?command=ls&stdout=0&stderr=0'))).toEqual({ error: 'you must specify at least 1 of stdin, stdout, stderr' });
    expect(parseExecRequest(new URL('http://n/portForward/default/p'))).toHaveProperty('error');
  });
  it('writes the path and query as kube-apiserver forwards them', () => {
    expect(streamPath('exec', { namespace: 'ns', pod: 'p', container: 'c', command: ['sh', '-c', 'echo a b'], stdin: true, tty: false })).toBe('/exec/ns/p/c?command=sh&command=-c&command=echo+a+b&stdin=1&stdout=1&stderr=1');
    expect(streamPath('attach', { namespace: 'ns', pod: 'p', container: 'c', command: ['x'], stdin: true, tty: true })).toBe('/attach/ns/p/c?stdin=1&stdout=1&tty=1');
    for (const kind of ['exec', 'attach'] as const) {
      const url = new URL(`http://n${streamPath(kind, { namespace: 'a b', pod: 'p', container: 'c', command: ['ls'], stdin: false, tty: false })}`);
      expect(parseExecRequest(url)).toMatchObject({ kind, namespace: 'a b', pod: 'p', container: 'c', stdin: false, stdout: true, stderr: true });
    }
  });
  it('frames channels, binary and base64, and round-trips exit codes through the Status', () => {
    expect([...frame(1, 'hi')]).toEqual([1, 104, 105]);
    expect(encodeFrame('v4.base64.channel.k8s.io', 1, 'hi')).toBe('1aGk=');
    expect(decodeFrame('v4.base64.channel.k8s.io', Buffer.from('0aGk='), false)).toEqual({ channel: 0, body: Buffer.from('hi') });
    expect(decodeFrame('v5.channel.k8s.io', Buffer.from([255, 0]), true)).toEqual({ channel: 255, body: Buffer.from([0]) });
    expect(decodeFrame('v5.channel.k8s.io', Buffer.alloc(0), true)).toBeUndefined();
    expect(statusExitCode(exitStatus(0, ['true']) as never)).toEqual({ code: 0 });
    expect(statusExitCode(exitStatus(3, ['sh', '-c', 'exit 3']) as never)).toEqual({ code: 3 });
    expect(statusExitCode({ status: 'Failure', message: 'container c is not running' })).toEqual({ code: 1, message: 'container c is not running' });
  });
  it('knet exec uses a terminal only with -i and a terminal on stdin, as kubectl', () => {
    expect(useTty({ stdin: true, tty: true }, true)).toEqual({ tty: true });
    expect(useTty({ stdin: true, tty: true }, false)).toMatchObject({ tty: false, warning: expect.stringContaining('Unable to use a TTY') });
    expect(useTty({ tty: false }, true)).toEqual({ tty: false });
  });
  it('defaults the container as kubectl does: annotation, else the first, saying so when there are several', () => {
    const pod = (annotations?: Record<string, string>) => ({ metadata: { name: 'p', namespace: 'd', annotations }, spec: { containers: [{ name: 'a' }, { name: 'b' }], initContainers: [{ name: 'i' }] } });
    expect(defaultContainer(pod())).toEqual({ container: 'a', note: 'Defaulted container "a" out of: a, b, i (init)' });
    expect(defaultContainer(pod({ 'kubectl.kubernetes.io/default-container': 'b' }))).toEqual({ container: 'b' });
    expect(defaultContainer(pod(), 'i')).toEqual({ container: 'i' });
    expect(defaultContainer(pod(), 'z')).toEqual({ error: 'container z not found in pod p' });
    expect(defaultContainer({ metadata: { name: 'p' }, spec: { containers: [{ name: 'only' }] } })).toEqual({ container: 'only' });
  });
});

describe("busybox tar's member names", () => {
  it('strips the leading slash of absolute operands when creating, as busybox and GNU tar do', async () => {
    const { busyboxTarArgv } = await import('../../../dataplane/node/shell/commands/tar-names.js');
    const note = "tar: removing leading '/' from member names\n";
    expect(busyboxTarArgv(['tar', 'cf', '-', '/tmp/f'])).toEqual({ argv: ['tar', 'cf', '-', '-C', '/', 'tmp/f'], note });
    expect(busyboxTarArgv(['tar', '-czf', '-', '/a', '/b/c'])).toEqual({ argv: ['tar', '-czf', '-', '-C', '/', 'a', 'b/c'], note });
    expect(busyboxTarArgv(['tar', '--create', '--file=-', '/'])).toEqual({ argv: ['tar', '--create', '--file=-', '-C', '/', '.'], note });
    for (const unchanged of [['tar', 'cPf', '-', '/a'], ['tar', 'cf', '-', '-C', '/x', 'a'], ['tar', 'xf', '-', '/a'], ['tar', 'cf', '-', 'rel', '/abs'], ['tar', '-xmf', '-', '-C', '/tmp'], ['ls', '/']]) {
      expect(busyboxTarArgv(unchanged)).toEqual({ argv: unchanged });
    }
  });
});
