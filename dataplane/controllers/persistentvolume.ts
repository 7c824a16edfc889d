/**
 * The PersistentVolume controller (kube-controller-manager's `persistentvolume-binder`,
 * pkg/controller/volume/persistentvolume): volumes go Available; a Pending claim binds to the
 * best matching volume (pv-match.ts) — PV `claimRef` and phase Bound, then the claim's
 * `volumeName`, annotations and status (Bound, capacity, accessModes); a claim without a match
 * stays Pending with upstream's event, repeated every 15 s as its periodic resync does; a
 * volume whose claim is gone turns Released (Retain) or is deleted (Delete) — with its data, the
 * volume's directory under the cluster's state dir (base/persistent-volume-dir.ts; Retain keeps it).
 *
 * Decisions are pv-sync.ts; this file reads the caches and writes.
 */
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { Controller, ControllerContext } from './controller-context.js';
import { WorkQueue } from '../base/work-queue.js';
import type { IndexFunc } from '../base/informer/indexer.js';
import { metaTime } from '../base/model/meta-time.js';
import { isPodTerminal } from './pod-conditions.js';
import { removePersistentVolumeDir } from '../base/persistent-volume-dir.js';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_STORAGE_PROVISIONER,
  syncClaim,
  syncVolume,
  type ClaimWorld,
} from './pv-sync.js';

/** Upstream's resync period: a Pending claim is looked at again (and its event repeated) this often. */
const RESYNC_MS = 15_000;
const CLAIM_USERS_INDEX = 'pv-controller:pods-by-claim';
const indexClaimUsers: IndexFunc<Pod> = (p) =>
  isPodTerminal(p) ? [] : (p.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [`${p.metadata?.namespace}/${v.persistentVolumeClaim.claimName}`] : []));

export interface PersistentVolumeControllerOptions {
  /** `<cluster dir>/volumes`: a volume this controller deletes loses its directory there too. */
  volumesDir?: string;
}

export function startPersistentVolumeController(ctx: ControllerContext, opts: PersistentVolumeControllerOptions = {}): Controller {
  const log = ctx.log.child('persistentvolume');
  const events = ctx.recorder('persistentvolume-controller');
  const volumes = ctx.informers.informer<PersistentVolume>('PersistentVolume');
  const claims = ctx.informers.informer<PersistentVolumeClaim>('PersistentVolumeClaim');
  const classes = ctx.informers.informer<StorageClass>('StorageClass');
  const pods = ctx.informers.informer<Pod>('Pod');
  pods.addIndexers({ [CLAIM_USERS_INDEX]: indexClaimUsers });
  const queue = new WorkQueue('persistentvolume', reconcile, { log, concurrency: 4 });
  const claimKey = (c: PersistentVolumeClaim) => `claim:${c.metadata?.namespace}/${c.metadata?.name}`;
  const pendingClaims = () => {
    for (const c of claims.list()) if (c.status?.phase !== 'Bound') queue.add(claimKey(c));
  };
  const onVolume = (v: PersistentVolume) => {
    queue.add(`volume:${v.metadata?.name}`);
    const ref = v.spec?.claimRef;
    if (ref) queue.add(`claim:${ref.namespace}/${ref.name}`);
    // A free volume can serve a waiting claim (only then: each claim sync repeats its event).
    else if (v.status?.phase === 'Available') pendingClaims();
  };
  const unsubscribe = [
    volumes.on({ add: onVolume, update: (_o, v) => onVolume(v), delete: () => pendingClaims() }),
    claims.on({
      add: (c) => queue.add(claimKey(c)),
      update: (_o, c) => queue.add(claimKey(c)),
      // Its volume is released (or deleted) now.
      delete: (c) => {
        for (const v of volumes.list()) if (v.spec?.claimRef?.uid === c.metadata?.uid) queue.add(`volume:${v.metadata?.name}`);
      },
    }),
    classes.on({ add: () => pendingClaims(), update: () => pendingClaims() }),
    // A first consumer for a WaitForFirstConsumer claim.
    pods.on({ add: (p) => indexClaimUsers(p).forEach((k) => queue.add(`claim:${k}`)) }),
  ];

  const world: ClaimWorld = {
    volume: (name) => volumes.get(undefined, name),
    volumes: () => volumes.list(),
    storageClass: (name) => classes.get(undefined, name),
    hasConsumer: (c) => pods.countByIndex(CLAIM_USERS_INDEX, `${c.metadata?.namespace}/${c.metadata?.name}`) > 0,
  };

  async function reconcile(key: string) {
    if (!ctx.writes.expectations.satisfied(key)) return { requeueAfterMs: ctx.writes.expectations.remainingMs(key) + 10 };
    if (key.startsWith('volume:')) return reconcileVolume(key, key.slice('volume:'.length));
    const [ns, name] = key.slice('claim:'.length).split('/') as [string, string];
    return reconcileClaim(key, ns, name);
  }

  async function reconcileClaim(key: string, ns: string, name: string) {
    const claim = claims.get(ns, name);
    if (!claim || claim.metadata?.deletionTimestamp) return undefined;
    const decision = syncClaim(claim, world);
    if ('bind' in decision) {
      await bind(key, decision.bind, claim);
      return undefined;
    }
    if (decision.event) events.record(claim, decision.event.type, decision.event.reason, decision.event.message);
    if ('lost' in decision) {
      await claimStatus(key, claim, { phase: 'Lost' });
      return undefined;
    }
    if (decision.provisioner) await annotateProvisioner(key, claim, decision.provisioner);
    if (claim.status?.phase !== 'Pending') await claimStatus(key, claim, { phase: 'Pending' });
    return { requeueAfterMs: RESYNC_MS };
  }

  async function reconcileVolume(key: string, name: string) {
    const volume = volumes.get(undefined, name);
    if (!volume) return;
    const ref = volume.spec?.claimRef;
    const decision = syncVolume(volume, ref?.namespace && ref.name ? claims.get(ref.namespace, ref.name) : undefined);
    if ('phase' in decision) await volumePhase(key, volume, decision.phase);
    else if ('remove' in decision) {
      log.info('deleting volume: its claim is gone and the reclaim policy is Delete', { volume: name });
      await ctx.writes.delete(key, 'PersistentVolume', undefined, name, { preconditions: { uid: volume.metadata?.uid } });
      // The deleter's work (a storage plugin's, upstream): the data goes with the volume.
      if (opts.volumesDir) removePersistentVolumeDir(opts.volumesDir, name);
    } else if ('unbind' in decision) {
      const freed = await ctx.writes.mutate<PersistentVolume>(key, 'PersistentVolume', undefined, name, (v) => {
        if (v.metadata?.uid !== volume.metadata?.uid) return undefined;
        const { [ANN_BOUND_BY_CONTROLLER]: _gone, ...annotations } = v.metadata?.annotations ?? {};
        const { claimRef: _ref, ...spec } = v.spec ?? {};
        return { ...v, metadata: { ...v.metadata, annotations }, spec };
      });
      if (freed) await volumePhase(key, freed, 'Available');
    }
  }

  /** bind(): the volume first (claimRef, then phase), then the claim (volumeName, then status), as upstream orders it. */
  async function bind(key: string, volume: PersistentVolume, claim: PersistentVolumeClaim) {
    const pvName = volume.metadata?.name ?? '';
    const claimed = await ctx.writes.mutate<PersistentVolume>(`volume:${pvName}`, 'PersistentVolume', undefined, pvName, (v) => {
      const ref = v.spec?.claimRef;
      if (ref?.uid === claim.metadata?.uid) return undefined;
      if (ref && (ref.name !== claim.metadata?.name || ref.namespace !== claim.metadata?.namespace || ref.uid)) return undefined;
      const claimRef = { kind: 'PersistentVolumeClaim', namespace: claim.metadata?.namespace, name: claim.metadata?.name, uid: claim.metadata?.uid, apiVersion: 'v1', resourceVersion: claim.metadata?.resourceVersion };
      const annotations = ref ? v.metadata?.annotations : { ...v.metadata?.annotations, [ANN_BOUND_BY_CONTROLLER]: 'yes' };
      return { ...v, metadata: { ...v.metadata, annotations }, spec: { ...v.spec, claimRef } };
    });
    if (!claimed || claimed.spec?.claimRef?.uid !== claim.metadata?.uid) return;
    await volumePhase(`volume:${pvName}`, claimed, 'Bound');
    const named = await ctx.writes.mutate<PersistentVolumeClaim>(key, 'PersistentVolumeClaim', claim.metadata?.namespace, claim.metadata?.name ?? '', (c) => {
      if (c.metadata?.uid !== claim.metadata?.uid) return undefined;
      const a = c.metadata?.annotations ?? {};
      if (c.spec?.volumeName === pvName && a[ANN_BIND_COMPLETED] === 'yes') return undefined;
      const annotations = { ...a, [ANN_BIND_COMPLETED]: 'yes', ...(c.spec?.volumeName ? {} : { [ANN_BOUND_BY_CONTROLLER]: 'yes' }) };
      return { ...c, metadata: { ...c.metadata, annotations }, spec: { ...c.spec, volumeName: pvName } };
    });
    if (named) await claimStatus(key, named, { phase: 'Bound', accessModes: claimed.spec?.accessModes, capacity: claimed.spec?.capacity });
    log.debug('bound', { claim: key, volume: pvName });
  }

  async function volumePhase(key: string, volume: PersistentVolume, phase: 'Available' | 'Bound' | 'Released') {
    if (volume.status?.phase === phase) return;
    await ctx.writes.mutate<PersistentVolume>(
      key,
      'PersistentVolume',
      undefined,
      volume.metadata?.name ?? '',
      (v) => (v.metadata?.uid !== volume.metadata?.uid || v.status?.phase === phase ? undefined : { ...v, status: { phase, lastPhaseTransitionTime: metaTime(ctx.now()) } }),
      { status: true },
    );
  }

  async function claimStatus(key: string, claim: PersistentVolumeClaim, status: NonNullable<PersistentVolumeClaim['status']>) {
    await ctx.writes.mutate<PersistentVolumeClaim>(
      key,
      'PersistentVolumeClaim',
      claim.metadata?.namespace,
      claim.metadata?.name ?? '',
      (c) => {
        if (c.metadata?.uid !== claim.metadata?.uid) return undefined;
        const next = { ...c.status, ...status };
        if (status.phase !== 'Bound') {
          delete next.accessModes;
          delete next.capacity;
        }
        return JSON.stringify(next) === JSON.stringify(c.status) ? undefined : { ...c, status: next };
      },
      { status: true },
    );
  }

  /** setClaimProvisioner: who is expected to provision the claim. */
  async function annotateProvisioner(key: string, claim: PersistentVolumeClaim, provisioner: string) {
    const a = claim.metadata?.annotations ?? {};
    if (a[ANN_STORAGE_PROVISIONER] === provisioner && a[ANN_BETA_STORAGE_PROVISIONER] === provisioner) return;
    await ctx.writes.mutate<PersistentVolumeClaim>(key, 'PersistentVolumeClaim', claim.metadata?.namespace, claim.metadata?.name ?? '', (c) =>
      c.metadata?.uid !== claim.metadata?.uid
        ? undefined
        : { ...c, metadata: { ...c.metadata, annotations: { ...c.metadata?.annotations, [ANN_STORAGE_PROVISIONER]: provisioner, [ANN_BETA_STORAGE_PROVISIONER]: provisioner } } },
    );
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      await queue.close();
    },
  };
}
