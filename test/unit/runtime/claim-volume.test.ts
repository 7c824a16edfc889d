/**
 * A pod's claim volume → claim (the pod's namespace) → `spec.volumeName` → the PV's directory
 * under the cluster's volumes dir; a claim missing, being deleted or not Bound is a FailedMount
 * problem; a name that is not a PV name never makes a path outside the root.
 */
import { describe, expect, it } from 'vitest';
import type { PersistentVolumeClaim, Pod, Volume } from 'kubernetes-types/core/v1.js';
import { resolveClaim } from '../../../dataplane/node/runtime/claim-volume.js';
import { missingVolumeSources } from '../../../dataplane/node/runtime/volume-sources.js';
import { volumeContent } from '../../../dataplane/node/shell/volume-files.js';
import { persistentVolumeDir } from '../../../dataplane/base/persistent-volume-dir.js';

const volume: Volume = { name: 'data', persistentVolumeClaim: { claimName: 'db' } };
const pod: Pod = { metadata: { namespace: 'shop', name: 'web' }, spec: { containers: [{ name: 'app', image: 'busybox' }], volumes: [volume] } };
const claim = (over: Partial<PersistentVolumeClaim> = {}): PersistentVolumeClaim => ({
  metadata: { namespace: 'shop', name: 'db' },
  spec: { volumeName: 'pv-1' },
  status: { phase: 'Bound' },
  ...over,
});
const lookupOf = (claims: PersistentVolumeClaim[]) => ({
  secret: () => undefined,
  configMap: () => undefined,
  persistentVolumeClaim: (ns: string, name: string) => claims.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name),
});
const failed = (why: string) => `Unable to attach or mount volumes: unmounted volumes=[data], failed to process volumes=[data]: error processing PVC shop/db: ${why}`;

describe('resolveClaim', () => {
  it.each<[string, PersistentVolumeClaim[], ReturnType<typeof resolveClaim>]>([
    ['bound', [claim()], { volumeName: 'pv-1' }],
    ['missing', [], { problem: failed('failed to fetch PVC from API server: persistentvolumeclaims "db" not found') }],
    ['in another namespace', [claim({ metadata: { namespace: 'other', name: 'db' } })], { problem: failed('failed to fetch PVC from API server: persistentvolumeclaims "db" not found') }],
    ['Pending', [claim({ spec: {}, status: { phase: 'Pending' } })], { problem: failed('PVC is not bound') }],
    ['named but not yet Bound', [claim({ status: { phase: 'Pending' } })], { problem: failed('PVC is not bound') }],
    ['being deleted', [claim({ metadata: { namespace: 'shop', name: 'db', deletionTimestamp: '2026-01-01T00:00:00Z' } })], { problem: failed("can't start pod because PVC is being deleted") }],
  ])('%s', (_name, claims, want) => {
    expect(resolveClaim(pod, volume, lookupOf(claims))).toEqual(want);
  });

  it('says nothing of other volumes, nor when the node does not look claims up', () => {
    expect(resolveClaim(pod, { name: 'e', emptyDir: {} }, lookupOf([]))).toBeUndefined();
    expect(resolveClaim(pod, volume, { secret: () => undefined, configMap: () => undefined })).toBeUndefined();
  });

  it('is a FailedMount problem until the claim is Bound', () => {
    expect(missingVolumeSources(pod, lookupOf([])).map((p) => p.volume)).toEqual(['data']);
    expect(missingVolumeSources(pod, lookupOf([claim()]))).toEqual([]);
  });
});

describe('a claim volume\'s content', () => {
  const ctx = (claims: PersistentVolumeClaim[], root?: string) => ({ pod, podIP: '127.244.1.2', hostIP: '127.18.0.2', lookup: lookupOf(claims), persistentVolumesDir: root });

  it('is the bound PV\'s directory under the cluster\'s volumes dir, readOnly from the pod\'s volume', () => {
    expect(volumeContent(volume, ctx([claim()], '/state/c1/volumes'))).toEqual({ kind: 'persistentVolume', dir: '/state/c1/volumes/pv-1', readOnly: false });
    const ro: Volume = { name: 'data', persistentVolumeClaim: { claimName: 'db', readOnly: true } };
    expect(volumeContent(ro, ctx([claim()], '/state/c1/volumes'))).toMatchObject({ readOnly: true });
  });

  it('is an empty directory without a volumes dir (the node backs no claims)', () => {
    expect(volumeContent(volume, ctx([claim()]))).toEqual({ kind: 'unsupported', type: 'persistentVolumeClaim' });
  });

  it.each(['../etc', 'a/b', '..', '.hidden', 'UPPER', ''])('never leaves the root for a volumeName of %j', (name) => {
    expect(persistentVolumeDir('/state/c1/volumes', name)).toBeUndefined();
    expect(volumeContent(volume, ctx([claim({ spec: { volumeName: name } })], '/state/c1/volumes')).kind).toBe('unsupported');
  });
});
