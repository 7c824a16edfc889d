/**
 * just-bash (the simulated shell, with its parser and virtual filesystems) is loaded on first
 * use: a node agent whose pods are all listeners or programs never pays for it.
 */
export type JustBash = typeof import('just-bash');

let loading: Promise<JustBash> | undefined;

export function loadJustBash(): Promise<JustBash> {
  return (loading ??= import('just-bash'));
}
