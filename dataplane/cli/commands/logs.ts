/** `knet logs POD [-c CONTAINER] [-f]`: the container's log file in the state dir. */
import { existsSync, readdirSync, readFileSync, statSync, openSync, readSync, closeSync, watch } from 'node:fs';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { connect, UsageError, type GlobalOptions } from '../connect.js';

export async function logsCommand(podName: string, opts: GlobalOptions & { container?: string; follow?: boolean; namespace?: string; tail?: number }, out: (s: string) => void): Promise<void> {
  const conn = await connect(opts);
  let file: string;
  try {
    const ns = opts.namespace ?? 'default';
    const pod = await conn.store.get<Pod>('Pod', ns, podName);
    if (!pod) throw new Error(`pods "${podName}" not found`);
    const containers = pod.spec?.containers?.map((c) => c.name) ?? [];
    const container = opts.container ?? (containers.length === 1 ? containers[0] : undefined);
    if (!container) throw new UsageError(`a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]`);
    const dir = conn.clusterDir.podLogDir(ns, podName);
    file = path.join(dir, `${container}.log`);
    if (!existsSync(file)) {
      const available = existsSync(dir) ? readdirSync(dir) : [];
      if (!available.length) {
        out(`(no log yet for ${ns}/${podName} container ${container}; logs are kept in ${dir})`);
        return;
      }
      throw new Error(`container "${container}" in pod "${podName}" has no log (have: ${available.join(', ')})`);
    }
  } finally {
    await conn.close();
  }
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  out((opts.tail !== undefined && opts.tail >= 0 ? lines.slice(-opts.tail) : lines).join('\n'));
  if (!opts.follow) return;
  let offset = statSync(file).size;
  await new Promise<void>((resolve) => {
    const w = watch(file, () => {
      const size = statSync(file).size;
      if (size <= offset) return;
      const fd = openSync(file, 'r');
      const buf = Buffer.alloc(size - offset);
      readSync(fd, buf, 0, buf.length, offset);
      closeSync(fd);
      offset = size;
      process.stdout.write(buf);
    });
    const stop = () => {
      w.close();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
