/**
 * What the network commands read from the container's own files: /etc/hosts and
 * /etc/resolv.conf (a libc reads them on every lookup, so edits inside the pod apply), and
 * paths relative to the shell's working directory.
 */
import { posix } from 'node:path';
import type { IFileSystem } from 'just-bash';
import type { ResolverFiles } from '../pod-resolver.js';

export async function resolverFiles(fs: IFileSystem): Promise<ResolverFiles> {
  const read = (p: string) => fs.readFile(p).catch(() => '');
  const [hosts, resolvConf] = await Promise.all([read('/etc/hosts'), read('/etc/resolv.conf')]);
  return { hosts, resolvConf };
}

export function absolutePath(cwd: string, p: string): string {
  return posix.resolve(cwd, p);
}
