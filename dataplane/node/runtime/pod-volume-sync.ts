/**
 * Keeps a pod's mounted volumes up to date while it runs, as the kubelet's periodic pod sync
 * does: every `VOLUME_SYNC_MS` ConfigMap, Secret, downward-API and projected volumes are
 * rendered again from the pod as the store has it now — in the simulated shell (emulated
 * images) and on disk (pod-volumes-dir.ts, for programs). The timers are on the injectable
 * clock so tests move time instead of waiting.
 */
import type { ConfigMap, Container, Pod, Secret } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../base/log.js';
import type { Clock, ClockTimer } from '../../base/clock.js';
import type { PodSandbox } from '../shell/pod-sandbox.js';
import type { VolumeContext } from '../shell/volume-files.js';
import { PodVolumesDir } from './pod-volumes-dir.js';
import type { SlotDeps } from './slot-deps.js';

/**
 * knet's volume sync period: a ConfigMap or Secret change, or a label or annotation change for
 * downward-API files, reaches mounted files within this. The kubelet resyncs every pod every
 * minute (syncFrequency), so there an update takes up to a minute or so; 2 s keeps the
 * behaviour (eventually, not at once; never for subPath mounts or env) without the wait.
 */
export const VOLUME_SYNC_MS = 2000;

export interface PodVolumeSyncOptions {
  pod: Pod;
  podIP: string;
  hostIP: string;
  lookup: { secret(ns: string, name: string): Secret | undefined; configMap(ns: string, name: string): ConfigMap | undefined };
  sandbox?: PodSandbox;
  /** This pod's directory on disk; none: programs see no volume files. */
  volumesDir?: string;
  /** The pod as the store has it now (labels and annotations change). */
  currentPod?: () => Pod | undefined;
  clock: Clock;
  syncMs: number;
  logger: Logger;
}

export class PodVolumeSync {
  private readonly disk: PodVolumesDir | undefined;
  private timer: ClockTimer | undefined;
  private stopped = false;

  constructor(private readonly opts: PodVolumeSyncOptions) {
    const volumes = opts.pod.spec?.volumes ?? [];
    this.disk = opts.volumesDir && volumes.length ? new PodVolumesDir(opts.volumesDir, volumes) : undefined;
    // Only these change after the pod starts; a pod with none of them has nothing to sync.
    if (volumes.some((v) => v.configMap || v.secret || v.downwardAPI || v.projected)) this.arm();
  }

  /** What a program's slot uses to lay out its mounts on disk (SlotDeps.volumes); none without a pod directory. */
  slotVolumes(): SlotDeps['volumes'] {
    const disk = this.disk;
    return (
      disk && {
        prepare: (c: Container) => disk.prepareContainer(c, this.context()),
        adopt: (c: Container) => disk.adoptContainer(c, this.context()),
      }
    );
  }

  /**
   * Renders the volumes now instead of at the next period (a projected token was refreshed:
   * ../pod-api-access.ts), and starts the period over.
   */
  syncNow(): void {
    if (this.stopped || !this.timer) return;
    this.opts.clock.clearTimeout(this.timer);
    this.sync();
  }

  /** The pod is stopping: no more syncs. */
  stop(): void {
    this.stopped = true;
    this.opts.clock.clearTimeout(this.timer);
  }

  /** What volume contents are computed from, with the pod as it is now (the same pod: a replaced one is not ours). */
  private context(): VolumeContext {
    const { pod, sandbox } = this.opts;
    const now = this.opts.currentPod?.();
    const current = now && now.metadata?.uid === pod.metadata?.uid ? now : undefined;
    if (sandbox) return sandbox.volumeContext(current);
    return { pod: current ?? pod, podIP: this.opts.podIP, hostIP: this.opts.hostIP, lookup: this.opts.lookup };
  }

  private arm(): void {
    this.timer = this.opts.clock.setTimeout(() => this.sync(), this.opts.syncMs);
  }

  private sync(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const { logger, sandbox } = this.opts;
    const ctx = this.context();
    void sandbox?.refreshVolumes(ctx.pod).catch((err: unknown) => logger.warn('could not refresh volume files', { error: err as Error }));
    try {
      this.disk?.resync(ctx);
    } catch (err) {
      logger.warn('could not refresh the volume files on disk', { error: err as Error });
    }
    this.arm();
  }
}
