/**
 * A test file's cluster, driven with the real kubectl: started before the file's first test with
 * kubectl pointed at the cluster's own kubeconfig (kubectlEnv: a temp HOME, so ~/.kube is never
 * read or written), and closed after its last test even when one failed.
 *
 *   let cluster: KnetCluster;   // the file's own binding, for what kubectl does not do
 *   const { ok, kubectl } = kubectlCluster({ manifests: 'examples/quickstart' }, { started: (k) => ({ cluster } = k) });
 *
 *   it('lists pods', async () => expect(await ok('get', 'pods')).toMatch(/^NAME/));
 *
 * The hooks are registered where kubectlCluster is called (a file's top level, or a describe).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startCluster, type KnetCluster, type StartClusterOptions } from '../../dataplane/index.js';
import { kubectl, kubectlEnv, type KubectlResult } from './kubectl.js';

export interface KubectlClusterSetup {
  /** Called (and awaited) once the cluster is up and kubectl's env made, before any test: the file's own bindings and setup. */
  started?(running: { cluster: KnetCluster; env: NodeJS.ProcessEnv }): unknown;
  /** beforeAll's timeout, where starting the cluster's pods takes longer than the configured one. */
  timeoutMs?: number;
}

export interface KubectlCluster {
  /** `kubectl ARGS…`: its stdout; a non-zero exit fails the test with kubectl's stderr. */
  ok(...args: string[]): Promise<string>;
  /** `kubectl ARGS`, `input` on stdin; never rejects: the result says how it ended. */
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  /** Writes `text` to a file of this fixture's temp dir (for `kubectl -f`); its path. */
  file(name: string, text: string): string;
}

export function kubectlCluster(options: StartClusterOptions = {}, setup: KubectlClusterSetup = {}): KubectlCluster {
  let cluster: KnetCluster | undefined;
  let env: NodeJS.ProcessEnv | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    cluster = await startCluster(options);
    env = kubectlEnv(cluster.kubeconfig.path);
    await setup.started?.({ cluster, env });
  }, setup.timeoutMs);
  afterAll(async () => {
    await cluster?.close();
    for (const d of [env?.HOME, dir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const run = (args: string[], input?: string) => {
    if (!env) throw new Error('kubectlCluster: the cluster is started by beforeAll; run kubectl in a test or a later hook');
    return kubectl(env, args, input);
  };
  return {
    kubectl: run,
    async ok(...args) {
      const r = await run(args);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    file(name, text) {
      dir ??= mkdtempSync(path.join(os.tmpdir(), 'knet-kubectl-files-'));
      const p = path.join(dir, name);
      writeFileSync(p, text);
      return p;
    },
  };
}
