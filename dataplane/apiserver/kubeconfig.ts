/**
 * The kubeconfig of a cluster's admin, as kind writes one: a cluster, a user and a context all
 * named `knet-<cluster>`, the CA and the admin's client certificate inline, the server at the
 * apiserver's address. kubectl, client-go, @kubernetes/client-node and Python's client read it.
 */
import { stringify } from 'yaml';
import type { Pki } from './pki.js';

export interface KubeconfigEntry {
  name: string;
  cluster: { server: string; 'certificate-authority-data': string };
  user: { 'client-certificate-data': string; 'client-key-data': string };
}

export interface Kubeconfig {
  apiVersion: 'v1';
  kind: 'Config';
  preferences?: Record<string, unknown>;
  'current-context'?: string;
  clusters?: Array<{ name: string; cluster: Record<string, unknown> }>;
  users?: Array<{ name: string; user: Record<string, unknown> }>;
  contexts?: Array<{ name: string; context: Record<string, unknown> }>;
  [key: string]: unknown;
}

export const contextName = (cluster: string): string => `knet-${cluster}`;

const b64 = (pem: string) => Buffer.from(pem).toString('base64');

export function kubeconfigEntry(cluster: string, server: string, pki: Pki): KubeconfigEntry {
  return {
    name: contextName(cluster),
    cluster: { server, 'certificate-authority-data': b64(pki.caCert) },
    user: { 'client-certificate-data': b64(pki.adminCert), 'client-key-data': b64(pki.adminKey) },
  };
}

/** A kubeconfig holding only this entry, current. */
export function kubeconfigOf(entry: KubeconfigEntry): Kubeconfig {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    'current-context': entry.name,
    clusters: [{ name: entry.name, cluster: entry.cluster }],
    users: [{ name: entry.name, user: entry.user }],
    contexts: [{ name: entry.name, context: { cluster: entry.name, user: entry.name } }],
  };
}

export function kubeconfigYaml(config: Kubeconfig): string {
  return stringify(config, { lineWidth: 0 });
}

/** `config` with the entry added (replacing same-named ones) and made current; the rest untouched. */
export function mergeEntry(config: Kubeconfig, entry: KubeconfigEntry): Kubeconfig {
  const upsert = <T extends { name: string }>(list: T[] | undefined, item: T): T[] => {
    const rest = (list ?? []).filter((x) => x?.name !== item.name);
    return [...rest, item];
  };
  return {
    ...config,
    clusters: upsert(config.clusters, { name: entry.name, cluster: entry.cluster }),
    users: upsert(config.users, { name: entry.name, user: entry.user }),
    contexts: upsert(config.contexts, { name: entry.name, context: { cluster: entry.name, user: entry.name } }),
    'current-context': entry.name,
  };
}

/** `config` without the entries named `name`; current-context cleared if it was that context (kind's remove.go). */
export function removeEntry(config: Kubeconfig, name: string): Kubeconfig {
  const drop = <T extends { name: string }>(list: T[] | undefined): T[] | undefined => list?.filter((x) => x?.name !== name);
  const out: Kubeconfig = { ...config, clusters: drop(config.clusters), users: drop(config.users), contexts: drop(config.contexts) };
  if (out['current-context'] === name) out['current-context'] = '';
  return out;
}
