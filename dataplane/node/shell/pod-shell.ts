/**
 * Opens a shell in one container of an emulated image: a ShellSession over the container's
 * filesystem, with the container's environment and the toolbox commands (basic-commands.ts,
 * and the network commands that connect from the pod's IP, network-commands.ts).
 *
 * The environment is what a process of the image gets from the runtime: the image's PATH,
 * HOSTNAME, the kubelet's variables for the container (container-env.ts: env, envFrom,
 * service links, knet's POD_IP…), HOME=/root, and TERM=xterm with a terminal.
 */
import type { IFileSystem } from 'just-bash';
import type { JustBash } from './just-bash-loader.js';
import { ShellSession, type ShellIO } from './shell-session.js';
import { basicCommands, type PodIdentity } from './commands/basic-commands.js';
import { networkCommands } from './commands/network-commands.js';
import type { NetworkTool } from './toolbox-images.js';
import type { PodNetwork } from './pod-resolver.js';

/** busybox's and alpine's image PATH. */
export const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ContainerShellContext {
  lib: JustBash;
  fs: IFileSystem;
  /** The container's resolved environment (kubelet order). */
  env: ReadonlyMap<string, string>;
  identity: PodIdentity;
  network: PodNetwork;
  tools: ReadonlySet<NetworkTool>;
  /** container.workingDir, else "/". */
  workingDir: string;
}

export function shellEnvironment(ctx: Pick<ContainerShellContext, 'env' | 'identity'>, tty: boolean): Record<string, string> {
  const env: Record<string, string> = { PATH: IMAGE_PATH, HOSTNAME: ctx.identity.hostname };
  if (tty) env.TERM = 'xterm';
  for (const [k, v] of ctx.env) env[k] = v;
  env.HOME ??= '/root';
  return env;
}

export function openShell(ctx: ContainerShellContext, io: ShellIO, signal: AbortSignal, opts: { tty?: boolean; positional?: string[] } = {}): Promise<ShellSession> {
  return ShellSession.create({
    lib: ctx.lib,
    fs: ctx.fs,
    env: shellEnvironment(ctx, !!opts.tty),
    cwd: ctx.workingDir,
    io,
    signal,
    positional: opts.positional,
    tty: opts.tty,
    commands: (session) => [...basicCommands(ctx.lib, session, ctx.identity), ...networkCommands(ctx.lib, session, ctx.network, ctx.tools)],
  });
}
