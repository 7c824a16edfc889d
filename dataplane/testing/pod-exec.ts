/**
 * `cluster.exec(pod, argv)`: a command in a pod's container, as `kubectl exec` runs it — in the
 * pod's simulated shell for emulated images (its files, environment, connections from the pod
 * IP), as a local process for programs — through the exec endpoint of the pod's node, over the
 * same WebSocket protocol and client code as `knet exec` (base/remotecommand/).
 */
import { Readable, Writable } from 'node:stream';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { defaultContainer } from '../base/remotecommand/default-container.js';
import { nodeStreamUrl } from '../base/remotecommand/node-stream.js';
import { streamRemoteCommand } from '../base/remotecommand/stream-client.js';
import type { ClusterContext } from './cluster-context.js';
import { firstPodOf } from './evidence.js';

export interface ExecOptions {
  /** Default: kubectl's (the `kubectl.kubernetes.io/default-container` annotation, else the first). */
  container?: string;
  namespace?: string;
  /** Given: sent as the command's stdin, then its end (`exec -i`). */
  stdin?: string | Buffer;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export async function execInPod(ctx: ClusterContext, ref: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  if (argv.length === 0) throw new Error('exec: you must specify at least one command for the container');
  const ns = opts.namespace ?? 'default';
  const name = ref.includes('/') ? await firstPodOf(ctx, ref, ns) : ref;
  const pod = await ctx.store.get<Pod & { kind: string }>('Pod', ns, name);
  if (!pod) throw new Error(`exec: pods "${name}" not found`);
  const chosen = defaultContainer(pod, opts.container);
  if ('error' in chosen) throw new Error(`exec: ${chosen.error}`);
  const target = await nodeStreamUrl(ctx.store, pod, 'exec', { container: chosen.container, command: argv, stdin: opts.stdin !== undefined, tty: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const r = await streamRemoteCommand(
    target.url,
    { headers: target.headers },
    {
      stdin: opts.stdin === undefined ? undefined : Readable.from([Buffer.from(opts.stdin)]),
      stdout: collect(out),
      stderr: collect(err),
    },
  ).catch((e: Error) => {
    throw new Error(`exec ${argv.join(' ')} in ${ns}/${name}: ${e.message}`);
  });
  if (r.message) throw new Error(`exec ${argv.join(' ')} in ${ns}/${name}: ${r.message}`);
  return { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), exitCode: r.code };
}

function collect(into: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      into.push(chunk);
      done();
    },
  });
}
