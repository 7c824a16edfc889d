/**
 * A toolbox image's container (busybox, alpine, curlimages/curl, netshoot, dnsutils): its
 * command and args — or the image's own default (`sh`; `curl` for curlimages/curl) — run in
 * the pod's simulated shell (../shell/), never on the host. Its output goes to the container
 * log as each statement (each loop iteration) ends, so `sh -c "while true; do wget -qO- web;
 * sleep 1; done"` logs each answer when it comes, and its connections leave from the pod IP.
 *
 * A container with `stdin: true` has its stdin held open: `kubectl attach -i` and `kubectl run
 * -i` write to it (container-attach.ts), so `kubectl run -i --image=busybox client -- sh` is a
 * shell reading commands from the attached client. With `tty: true` the shell has a terminal (an
 * interactive prompt, `kubectl run -it`), written to the log as a terminal's output is.
 *
 * Signals as a container's PID 1 gets them: a shell or `sleep` as PID 1 has no handler for
 * SIGTERM, so SIGTERM does nothing (there is no `trap`) and the pod goes at the end of its
 * grace period with SIGKILL (exit 137), as `kubectl delete pod` of a busybox pod takes 30 s in
 * a cluster; `--grace-period=0`/`--now` is quick. SIGKILL stops the shell at once, even in
 * `sleep infinity`.
 */
import { PassThrough, Writable } from 'node:stream';
import type { ContainerContext, ContainerExit, ContainerProcess, StopSignal } from './container-process.js';
import { SIGNAL_NUMBER } from './container-process.js';
import type { PodSandbox } from '../shell/pod-sandbox.js';
import { runShellProgram } from '../shell/shell-program.js';
import { toolboxProfile } from '../shell/toolbox-images.js';

/**
 * What runs, as the image's ENTRYPOINT and CMD make it: `command` replaces both; `args` alone
 * replace CMD (busybox and alpine have no ENTRYPOINT, so args are the command; curlimages/curl's
 * entrypoint puts `curl` before args that start with "-"); neither runs CMD (`sh`, `curl`).
 */
export function toolboxArgv(image: string | undefined, command: string[], args: string[]): string[] {
  if (command.length > 0) return [...command, ...args];
  const curl = toolboxProfile(image)?.image === 'curl';
  if (args.length > 0) return curl && args[0]!.startsWith('-') ? ['curl', ...args] : args;
  return curl ? ['curl'] : ['sh'];
}

export async function startToolboxContainer(ctx: ContainerContext, sandbox: PodSandbox): Promise<ContainerProcess> {
  const kill = new AbortController();
  let resolveExit!: (e: ContainerExit) => void;
  const exited = new Promise<ContainerExit>((r) => (resolveExit = r));
  const argv = toolboxArgv(ctx.container.image, ctx.command, ctx.args);
  const logOf = (stream: 'stdout' | 'stderr') =>
    new Writable({
      write(chunk: Buffer, _enc, done) {
        ctx.log.write(chunk, stream);
        done();
      },
    });
  const shell = await sandbox.shellContext(ctx.container, ctx.env);
  let done = false;
  // `stdin: true` (kubectl run -i): the runtime keeps the container's stdin open, so a shell
  // waits on it for the commands an attached client sends instead of ending at once.
  const stdin = ctx.container.stdin ? new PassThrough() : undefined;
  const tty = !!ctx.container.tty;
  // A terminal is one stream (the runtime logs it as stdout); without one, stdout and stderr stay apart.
  const stdout = logOf('stdout');
  const stderr = tty ? stdout : logOf('stderr');
  if (tty) Object.assign(stdout, { columns: 80, rows: 24 });
  void runShellProgram(shell, argv, { stdin, stdout, stderr, tty, signal: kill.signal })
    .then((status) => (kill.signal.aborted ? { exitCode: 128 + SIGNAL_NUMBER.SIGKILL, signal: SIGNAL_NUMBER.SIGKILL } : { exitCode: status }))
    .catch((err: unknown) => {
      ctx.log.write(`knet: the simulated shell failed: ${(err as Error).message}\n`, 'stderr');
      ctx.logger.error('toolbox shell failed', { error: err as Error });
      return { exitCode: 1 };
    })
    .then((e: ContainerExit) => {
      done = true;
      resolveExit(e);
    });
  return {
    exited,
    stdin,
    resize(size) {
      if (!tty) return;
      Object.assign(stdout, { columns: size.cols, rows: size.rows });
      stdout.emit('resize');
    },
    signal(sig: StopSignal) {
      if (done) return;
      // SIGTERM: PID 1 without a handler ignores it.
      if (sig === 'SIGKILL') kill.abort();
    },
  };
}
