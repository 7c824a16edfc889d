/**
 * Where a PersistentVolume's data lives: one directory per volume under the cluster's state dir,
 * `<cluster dir>/volumes/<pv name>` — shared by every node of the cluster (they are processes of
 * one machine), written by the pods whose bound claim names the volume, kept across pods, and
 * removed when the PV controller deletes the volume (reclaim policy Delete).
 *
 * A `hostPath` or `local` volume's path on the machine is never used: knet writes nothing outside
 * its state dir, so every PersistentVolume is backed by its directory here, whatever its source.
 * The node agent and the PV controller both compute the path from the volume's name.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';

/** A PV name is a DNS subdomain; anything else (a `/`, `..`) never names a directory here. */
const PV_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** `<root>/<pv name>`, or undefined for a name that is not a PV name (never a path outside `root`). */
export function persistentVolumeDir(root: string, pvName: string): string | undefined {
  if (!PV_NAME.test(pvName) || pvName.includes('..')) return undefined;
  return path.join(root, pvName);
}

/** The volume is deleted (reclaim policy Delete): its data goes with it. */
export function removePersistentVolumeDir(root: string, pvName: string): void {
  const dir = persistentVolumeDir(root, pvName);
  if (dir) rmSync(dir, { recursive: true, force: true });
}
