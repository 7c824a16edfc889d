/**
 * vitest globalSetup: one knet cluster for the whole run, started before any test file and
 * closed after the last. Test files (in their own workers) reach it with connectCluster().
 *
 * In your project: import { startCluster, type ClusterRef } from 'knet';
 */
import type { TestProject } from 'vitest/node';
import { startCluster, type ClusterRef } from '../../../dataplane/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    knet: ClusterRef;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startCluster({ manifests: 'examples/quickstart' });
  project.provide('knet', cluster.ref);
  return () => cluster.close();
}
