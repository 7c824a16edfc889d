/** A projected service-account token waits for its service account (and kube-root-ca.crt), as the kubelet's FailedMount. */
import { describe, expect, it } from 'vitest';
import type { ConfigMap, Pod, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { missingVolumeSources } from '../../../dataplane/node/runtime/volume-sources.js';
import { admitServiceAccount } from '../../../dataplane/base/admission/service-account.js';

const pod: Pod = admitServiceAccount({ metadata: { namespace: 'shop', name: 'web' }, spec: { serviceAccountName: 'builder', containers: [{ name: 'app', image: 'nginx' }] } }, undefined, 'kube-api-access-abcde');
const rootCA: ConfigMap = { metadata: { namespace: 'shop', name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'PEM' } };

describe('volumes waiting for their sources', () => {
  it('waits for kube-root-ca.crt and, when the node issues tokens, for the service account', () => {
    const none = { secret: () => undefined, configMap: () => undefined };
    expect(missingVolumeSources(pod, none).map((p) => p.message)).toEqual(['MountVolume.SetUp failed for volume "kube-api-access-abcde" : configmap "kube-root-ca.crt" not found']);
    const accounts: ServiceAccount[] = [];
    const lookup = { secret: () => undefined, configMap: () => rootCA, serviceAccount: (ns: string, name: string) => accounts.find((a) => a.metadata?.namespace === ns && a.metadata?.name === name) };
    expect(missingVolumeSources(pod, lookup).map((p) => p.message)).toEqual(['MountVolume.SetUp failed for volume "kube-api-access-abcde" : failed to fetch token: serviceaccounts "builder" not found']);
    accounts.push({ metadata: { namespace: 'shop', name: 'builder' } });
    expect(missingVolumeSources(pod, lookup)).toEqual([]);
  });
});
