/**
 * The node agent's in-cluster API access for a pod, on a fake clock: a kubeconfig for the pod's
 * own service account (KUBECONFIG) naming the files of its service-account volume as the
 * runtime renders it on disk (PodVolumesDir, the one writer), the token refreshed when 80 % of
 * its lifetime has passed — the volume rendered again at once, the file the kubeconfig names
 * replaced — and everything gone with the pod.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import type { ConfigMap, Node, Pod, Service, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { PodVolumesDir } from '../../../dataplane/node/runtime/pod-volumes-dir.js';
import type { VolumeContext } from '../../../dataplane/node/shell/volume-files.js';
import type { Informer } from '../../../dataplane/base/informer/informer-types.js';
import { PodApiAccess } from '../../../dataplane/node/pod-api-access.js';
import { admitServiceAccount } from '../../../dataplane/base/admission/service-account.js';
import { ensureSigningKey } from '../../../dataplane/base/serviceaccount/signing-key.js';
import { TokenIssuer } from '../../../dataplane/base/serviceaccount/token-issuer.js';
import { silentLogger } from '../../../dataplane/base/log.js';
import { fakeClock } from '../../support/fake-clock.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'knet-api-access-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const key = ensureSigningKey(path.join(root, 'pki'));
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

/** An informer over fixed objects (PodApiAccess only reads). */
function informer<T extends { metadata?: { namespace?: string; name?: string } }>(items: T[]): Informer<T> {
  return { get: (ns: string | undefined, name: string) => items.find((o) => (o.metadata?.namespace ?? undefined) === ns && o.metadata?.name === name) } as unknown as Informer<T>;
}

const sa: ServiceAccount = { metadata: { namespace: 'shop', name: 'default', uid: 'sa-1' } };
const node: Node = { metadata: { name: 'node-1', uid: 'node-uid' } };
const kubernetes: Service = { metadata: { namespace: 'default', name: 'kubernetes' }, spec: { clusterIP: '127.96.0.1', ports: [{ name: 'https', port: 443 }] } };
const configMaps: ConfigMap[] = [{ metadata: { namespace: 'shop', name: 'kube-root-ca.crt' }, data: { 'ca.crt': CA } }];
const lookup = { secret: () => undefined, configMap: (ns: string, name: string) => configMaps.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name) };
const podOf = (uid: string, automount = true): Pod =>
  admitServiceAccount({ metadata: { namespace: 'shop', name: `p-${uid}`, uid }, spec: { nodeName: 'node-1', automountServiceAccountToken: automount, containers: [{ name: 'main', image: 'python:3', command: ['python3'] }] } }, sa);

function access() {
  const clock = fakeClock(Date.parse('2026-03-01T10:00:00Z'));
  const a = new PodApiAccess({
    key,
    clusterDomain: 'cluster.local',
    serviceAccounts: informer([sa]),
    nodes: informer([node]),
    services: informer([kubernetes]),
    podDir: (uid) => path.join(root, 'pods', uid),
    log: silentLogger,
    clock,
  });
  return { a, clock };
}

/** The pod's volumes as the runtime renders them for its programs, with tokens from `a`'s issuer. */
function volumesOnDisk(a: PodApiAccess, pod: Pod) {
  const disk = new PodVolumesDir(path.join(root, 'pods', pod.metadata!.uid!), pod.spec!.volumes!);
  const ctx: VolumeContext = { pod, podIP: '127.244.1.5', hostIP: '127.18.0.2', lookup: a.lookup(lookup), token: (aud, exp) => a.issuer.token?.(pod, aud, exp) };
  return { disk, ctx };
}

interface Kubeconfig {
  clusters: Array<{ cluster: { 'certificate-authority': string } }>;
  users: Array<{ user: { tokenFile: string; 'token-file': string } }>;
}

describe('PodApiAccess', () => {
  it("writes a kubeconfig for the pod's own service account naming its volume's files as rendered on disk", () => {
    const { a } = access();
    const pod = podOf('u1');
    const { programEnv } = a.start(pod);
    const dir = path.join(root, 'pods', 'u1');
    const volume = pod.spec!.volumes!.find((v) => v.name.startsWith('kube-api-access-'))!;
    const volumeDir = path.join(dir, 'volumes', 'kubernetes.io~projected', volume.name);
    expect(programEnv).toEqual({ KUBECONFIG: path.join(dir, 'kubeconfig') });
    const kc = parse(readFileSync(programEnv!.KUBECONFIG!, 'utf8')) as Kubeconfig;
    expect(kc).toMatchObject({
      'current-context': 'in-cluster',
      clusters: [{ name: 'in-cluster', cluster: { server: 'https://127.96.0.1:443', 'certificate-authority': path.join(volumeDir, 'ca.crt') } }],
      users: [{ name: 'default', user: { tokenFile: path.join(volumeDir, 'token'), 'token-file': path.join(volumeDir, 'token') } }],
      contexts: [{ name: 'in-cluster', context: { cluster: 'in-cluster', user: 'default', namespace: 'shop' } }],
    });
    expect(statSync(programEnv!.KUBECONFIG!).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    // One writer: the files are the volume's, rendered when the pod's first program starts.
    expect(existsSync(path.join(dir, 'serviceaccount'))).toBe(false);
    expect(existsSync(volumeDir)).toBe(false);
    const { disk, ctx } = volumesOnDisk(a, pod);
    disk.prepareContainer(pod.spec!.containers[0]!, ctx);
    expect(readFileSync(kc.clusters[0]!.cluster['certificate-authority'], 'utf8')).toBe(CA);
    expect(readFileSync(path.join(volumeDir, 'namespace'), 'utf8')).toBe('shop');
    const token = readFileSync(kc.users[0]!.user.tokenFile, 'utf8');
    const objects = { serviceAccount: () => sa, pod: () => pod, secret: () => undefined, node: () => node };
    expect(new TokenIssuer({ key, clusterDomain: 'cluster.local' }).authenticate(token, objects)).toMatchObject({ ok: true, user: { name: 'system:serviceaccount:shop:default' } });
    a.remove('u1');
    expect(existsSync(dir)).toBe(false);
  });

  it('refreshes the token once 80 % of its lifetime has passed: the volume is rendered again at once, replacing the file the kubeconfig names', () => {
    const { a, clock } = access();
    const pod = podOf('u2');
    const { programEnv } = a.start(pod);
    const { disk, ctx } = volumesOnDisk(a, pod);
    disk.prepareContainer(pod.spec!.containers[0]!, ctx);
    let renders = 0;
    a.attach('u2', () => {
      renders++;
      disk.resync(ctx);
    });
    const file = (parse(readFileSync(programEnv!.KUBECONFIG!, 'utf8')) as Kubeconfig).users[0]!.user.tokenFile;
    const first = readFileSync(file, 'utf8');
    // Token times are whole seconds, and the clock starts on one.
    clock.advance(0.8 * 3607_000 - 1);
    expect(renders).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(first);
    clock.advance(1);
    expect(renders).toBe(1);
    const second = readFileSync(file, 'utf8');
    expect(second).not.toBe(first);
    // And again, 80 % into the new token's life.
    clock.advance(0.8 * 3607_000);
    expect(renders).toBe(2);
    expect(readFileSync(file, 'utf8')).not.toBe(second);
    a.remove('u2');
    expect(clock.pending()).toBe(0);
  });

  it('gives nothing to a pod that does not mount the service-account volume', () => {
    const { a } = access();
    expect(a.start(podOf('u3', false))).toEqual({});
    expect(existsSync(path.join(root, 'pods', 'u3'))).toBe(false);
  });

  it('makes a projected token wait for its service account, when it issues tokens', () => {
    const { a } = access();
    expect(a.lookup(lookup).serviceAccount?.('shop', 'default')).toBe(sa);
    expect(a.lookup(lookup).serviceAccount?.('shop', 'builder')).toBeUndefined();
  });
});
