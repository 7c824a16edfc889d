/**
 * `knet exec (POD | TYPE/NAME) [-c CONTAINER] [-i] [-t] -- COMMAND [ARGS…]`: runs a command in
 * a container, as `kubectl exec`: through the exec endpoint of the node that runs the pod
 * (dataplane/node/exec/), over the same WebSocket protocol kubectl speaks to the API server.
 * -i sends stdin (its end included), -t makes a terminal (raw mode here, resizes follow the
 * window); the command's exit code is knet's, with kubectl's "command terminated with exit
 * code N" on stderr.
 */
import { connect, UsageError, type GlobalOptions } from '../connect.js';
import { parseResourceArgs } from '../resource-args.js';
import { attachablePod } from '../../base/portforward/select-pod.js';
import { defaultContainer } from '../../base/remotecommand/default-container.js';
import { nodeStreamUrl } from '../../base/remotecommand/node-stream.js';
import { streamRemoteCommand } from '../../base/remotecommand/stream-client.js';

export interface ExecCommandOptions extends GlobalOptions {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
  namespace?: string;
  quiet?: boolean;
}

export async function execCommand(ref: string, command: string[], opts: ExecCommandOptions): Promise<void> {
  if (command.length === 0) throw new UsageError('you must specify at least one command for the container');
  if (ref.includes('/')) parseResourceArgs([ref], 'exec');
  const terminal = useTty(opts, !!process.stdin.isTTY);
  if (terminal.warning && !opts.quiet) process.stderr.write(terminal.warning + '\n');
  const tty = terminal.tty;
  const conn = await connect(opts);
  let target: { url: string; headers: Record<string, string> };
  try {
    const ns = opts.namespace ?? 'default';
    const { pod } = await attachablePod(conn.store, ns, ref, 20_000);
    const chosen = defaultContainer(pod, opts.container);
    if ('error' in chosen) throw new Error(chosen.error);
    if (chosen.note && !opts.quiet) process.stderr.write(chosen.note + '\n');
    target = await nodeStreamUrl(conn.store, pod, 'exec', { container: chosen.container, command, stdin: !!opts.stdin, tty });
  } finally {
    await conn.close();
  }
  process.exitCode = await stream(target, !!opts.stdin, tty);
}

/** kubectl's rule: -t needs -i and a terminal on stdin, else it warns and runs without one. */
export function useTty(opts: { stdin?: boolean; tty?: boolean }, stdinIsTerminal: boolean): { tty: boolean; warning?: string } {
  if (!opts.tty) return { tty: false };
  if (!opts.stdin || !stdinIsTerminal) return { tty: false, warning: 'Unable to use a TTY - input is not a terminal or the right kind of file' };
  return { tty: true };
}

/** The terminal's side: raw mode with -t, resizes followed, kubectl's last line for a failure. */
async function stream(target: { url: string; headers: Record<string, string> }, sendStdin: boolean, tty: boolean): Promise<number> {
  let onResize: (() => void) | undefined;
  if (tty) process.stdin.setRawMode(true);
  try {
    const r = await streamRemoteCommand(target.url, { headers: target.headers }, {
      stdin: sendStdin ? process.stdin : undefined,
      stdout: process.stdout,
      stderr: process.stderr,
      onOpen: (session) => {
        if (!tty || !process.stdout.isTTY) return;
        onResize = () => session.resize(process.stdout.columns, process.stdout.rows);
        onResize();
        process.stdout.on('resize', onResize);
      },
    });
    if (r.message) process.stderr.write(`error: ${r.message}\n`);
    else if (r.code !== 0) process.stderr.write(`command terminated with exit code ${r.code}\n`);
    return r.code;
  } finally {
    if (tty) process.stdin.setRawMode(false);
    if (sendStdin) process.stdin.pause();
    if (onResize) process.stdout.off('resize', onResize);
  }
}
