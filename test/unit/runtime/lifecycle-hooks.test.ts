import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { formatPod, graceAfterPreStop, killContainer, runLifecycleHandler, type HookTarget } from '../../../dataplane/node/runtime/lifecycle-hooks.js';
import type { ContainerExit, ContainerProcess, StopSignal } from '../../../dataplane/node/runtime/container-process.js';
import { fakeClock, type FakeClock } from '../../support/fake-clock.js';

const pod: Pod = { metadata: { name: 'web-1', namespace: 'default', uid: 'u-1' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };

function target(clock: FakeClock, exec: HookTarget['exec'] = async () => ({ exitCode: 0, output: '' })): HookTarget {
  return { pod, container: pod.spec!.containers[0]!, podIP: '127.0.0.1', exec, clock };
}

/** A container process that records signals and exits on SIGKILL, or on SIGTERM when told to. */
function fakeProc(exitOnTerm: boolean) {
  let exit!: (e: ContainerExit) => void;
  const signals: StopSignal[] = [];
  const proc: ContainerProcess = {
    exited: new Promise((r) => (exit = r)),
    signal(sig) {
      signals.push(sig);
      if (sig === 'SIGKILL' || exitOnTerm) exit({ exitCode: sig === 'SIGKILL' ? 137 : 0 });
    },
  };
  return { proc, signals };
}

describe('graceAfterPreStop', () => {
  it('takes the whole seconds the hook used off the grace period', () => {
    expect(graceAfterPreStop(30_000, 2_400)).toBe(28_000);
    expect(graceAfterPreStop(30_000, 999)).toBe(30_000);
  });
  it('never leaves less than the kubelet minimum of 2 s', () => {
    expect(graceAfterPreStop(5_000, 5_000)).toBe(2_000);
    expect(graceAfterPreStop(1_000, 1_000)).toBe(2_000);
    expect(graceAfterPreStop(3_000, 1_500)).toBe(2_000);
  });
});

describe('runLifecycleHandler', () => {
  it('formats the pod as the kubelet does', () => {
    expect(formatPod(pod)).toBe('web-1_default(u-1)');
  });

  it('sleep waits its seconds on the clock', async () => {
    const clock = fakeClock();
    let done: string | undefined | 'pending' = 'pending';
    void runLifecycleHandler({ sleep: { seconds: 5 } }, target(clock), new AbortController().signal).then((r) => (done = r));
    clock.advance(4_999);
    await Promise.resolve();
    expect(done).toBe('pending');
    clock.advance(1);
    await new Promise((r) => setImmediate(r));
    expect(done).toBeUndefined();
  });

  it('sleep ended by its container is a failure with the kubelet message', async () => {
    const clock = fakeClock();
    const ac = new AbortController();
    const result = runLifecycleHandler({ sleep: { seconds: 5 } }, target(clock), ac.signal);
    ac.abort();
    expect(await result).toBe('Sleep lifecycle hook (5) for Container "c" in Pod "web-1_default(u-1)" failed - error: container terminated before sleep hook finished');
  });

  it('exec fails on a non-zero exit, with the command and its output', async () => {
    const clock = fakeClock();
    const msg = await runLifecycleHandler({ exec: { command: ['sh', '-c', 'exit 3'] } }, target(clock, async () => ({ exitCode: 3, output: 'boom\n' })), new AbortController().signal);
    expect(msg).toBe(`Exec lifecycle hook ([sh -c exit 3]) for Container "c" in Pod "web-1_default(u-1)" failed - error: command 'sh -c exit 3' exited with 3: , message: "boom\\n"`);
    expect(await runLifecycleHandler({ exec: { command: ['true'] } }, target(clock), new AbortController().signal)).toBeUndefined();
  });

  it('tcpSocket is never run: the hook fails as the kubelet has no handler for it', async () => {
    const msg = await runLifecycleHandler({ tcpSocket: { port: 80 } }, target(fakeClock()), new AbortController().signal);
    expect(msg).toMatch(/^Cannot run handler: invalid handler: /);
  });

  it('httpGet to a named port the container does not have fails', async () => {
    const msg = await runLifecycleHandler({ httpGet: { path: '/x', port: 'nope' } }, target(fakeClock()), new AbortController().signal);
    expect(msg).toBe('HTTP lifecycle hook (/x) for Container "c" in Pod "web-1_default(u-1)" failed - error: port nope not found');
  });
});

describe('killContainer', () => {
  it('runs preStop first and sends SIGTERM only once it has finished', async () => {
    const clock = fakeClock();
    const { proc, signals } = fakeProc(true);
    let finish!: () => void;
    const hook = new Promise<{ exitCode: number; output: string }>((r) => (finish = () => r({ exitCode: 0, output: '' })));
    const killed = killContainer({ proc, graceMs: 30_000, clock, preStop: { exec: { command: ['drain'] } }, target: target(clock, () => hook), onHookFailed: () => {} });
    await new Promise((r) => setImmediate(r));
    expect(signals).toEqual([]);
    finish();
    expect(await killed).toEqual({ exitCode: 0 });
    expect(signals).toEqual(['SIGTERM']);
  });

  it('stops waiting for the hook when the grace period is over, and reports a failure that came before', async () => {
    const clock = fakeClock();
    const { proc, signals } = fakeProc(true);
    const failures: string[] = [];
    const killed = killContainer({ proc, graceMs: 3_000, clock, preStop: { sleep: { seconds: 60 } }, target: target(clock), onHookFailed: (m) => failures.push(m) });
    await new Promise((r) => setImmediate(r));
    expect(signals).toEqual([]);
    clock.advance(3_000);
    await killed;
    expect(signals).toEqual(['SIGTERM']);

    const second = fakeProc(true);
    await killContainer({ proc: second.proc, graceMs: 3_000, clock, preStop: { tcpSocket: { port: 80 } }, target: target(clock), onHookFailed: (m) => failures.push(m) });
    expect(failures).toEqual([expect.stringMatching(/^Cannot run handler: invalid handler/)]);
    expect(second.signals).toEqual(['SIGTERM']);
  });

  it('skips the hook with a grace period of 0', async () => {
    const { proc, signals } = fakeProc(false);
    let ran = false;
    const exec: HookTarget['exec'] = async () => ((ran = true), { exitCode: 0, output: '' });
    await killContainer({ proc, graceMs: 0, clock: fakeClock(), preStop: { exec: { command: ['x'] } }, target: target(fakeClock(), exec), onHookFailed: () => {} });
    expect(ran).toBe(false);
    expect(signals).toEqual(['SIGTERM', 'SIGKILL']);
  });
});
