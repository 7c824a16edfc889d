/**
 * The ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount/admission.go): the
 * default service account, the Forbidden create for a missing one, automount from the pod or
 * the service account, and the kube-api-access volume with its mounts as upstream adds them.
 */
import { describe, expect, it } from 'vitest';
import type { Pod, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { admitServiceAccount, serviceAccountProblem } from '../../../dataplane/base/admission/service-account.js';
import { applyDefaults } from '../../../dataplane/base/model/defaults/index.js';

const pod = (spec: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop' },
  spec: { containers: [{ name: 'app', image: 'nginx' }], ...spec },
});
const sa = (name: string, automount?: boolean): ServiceAccount => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: 'shop' }, ...(automount !== undefined ? { automountServiceAccountToken: automount } : {}) });

describe('ServiceAccount admission', () => {
  it('runs a pod as `default` and mounts the kube-api-access volume in every container, as upstream', () => {
    const admitted = admitServiceAccount(pod({ initContainers: [{ name: 'init', image: 'busybox' }] }), sa('default'), 'kube-api-access-x2k8q');
    expect(admitted.spec?.serviceAccountName).toBe('default');
    expect(admitted.spec?.serviceAccount).toBe('default');
    const mount = { name: 'kube-api-access-x2k8q', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };
    expect(admitted.spec?.containers[0]?.volumeMounts).toEqual([mount]);
    expect(admitted.spec?.initContainers?.[0]?.volumeMounts).toEqual([mount]);
    // `kubectl get pod -o yaml` on a 1.32 cluster shows exactly this volume.
    expect(admitted.spec?.volumes).toEqual([
      {
        name: 'kube-api-access-x2k8q',
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' }, path: 'namespace' }] } },
          ],
        },
      },
    ]);
  });

  it('names the volume kube-api-access-xxxxx by default', () => {
    expect(admitServiceAccount(pod(), undefined).spec?.volumes?.[0]?.name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('honours automountServiceAccountToken: the pod first, then the service account', () => {
    expect(admitServiceAccount(pod({ automountServiceAccountToken: false }), sa('default')).spec?.volumes).toBeUndefined();
    expect(admitServiceAccount(pod(), sa('default', false)).spec?.volumes).toBeUndefined();
    expect(admitServiceAccount(pod({ automountServiceAccountToken: true }), sa('default', false)).spec?.volumes).toHaveLength(1);
    const off = admitServiceAccount(pod({ automountServiceAccountToken: false }), sa('default'));
    expect(off.spec?.containers[0]?.volumeMounts).toBeUndefined();
    expect(off.spec?.serviceAccountName).toBe('default');
  });

  it('leaves a container that mounts something at the path alone, and adds nothing when every container does', () => {
    const own = { name: 'mine', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };
    const p = pod({ containers: [{ name: 'a', image: 'x', volumeMounts: [own] }, { name: 'b', image: 'x' }], volumes: [{ name: 'mine', emptyDir: {} }] });
    const admitted = admitServiceAccount(p, undefined, 'kube-api-access-abcde');
    expect(admitted.spec?.containers[0]?.volumeMounts).toEqual([own]);
    expect(admitted.spec?.containers[1]?.volumeMounts?.[0]?.name).toBe('kube-api-access-abcde');
    expect(admitted.spec?.volumes?.map((v) => v.name)).toEqual(['mine', 'kube-api-access-abcde']);
    const all = pod({ containers: [{ name: 'a', image: 'x', volumeMounts: [own] }], volumes: [{ name: 'mine', emptyDir: {} }] });
    expect(admitServiceAccount(all, undefined).spec?.volumes).toEqual([{ name: 'mine', emptyDir: {} }]);
  });

  it('reuses a kube-api-access volume the pod already has', () => {
    const p = pod({ volumes: [{ name: 'kube-api-access-given', emptyDir: {} }] });
    const admitted = admitServiceAccount(p, undefined, 'kube-api-access-new');
    expect(admitted.spec?.volumes?.map((v) => v.name)).toEqual(['kube-api-access-given']);
    expect(admitted.spec?.containers[0]?.volumeMounts?.[0]?.name).toBe('kube-api-access-given');
  });

  it('forbids a pod whose named service account does not exist; a missing `default` waits for its controller', () => {
    expect(serviceAccountProblem(pod({ serviceAccountName: 'builder' }), undefined)).toBe('error looking up service account shop/builder: serviceaccount "builder" not found');
    expect(serviceAccountProblem(pod({ serviceAccountName: 'builder' }), sa('builder'))).toBeUndefined();
    expect(serviceAccountProblem(pod(), undefined)).toBeUndefined();
    // The deprecated field names it too.
    expect(serviceAccountProblem(pod({ serviceAccount: 'old' }), undefined)).toContain('shop/old');
  });
});

describe('serviceAccount and serviceAccountName (v1 conversion)', () => {
  it('the deprecated field fills the new one and follows it', () => {
    const a = applyDefaults(pod({ serviceAccount: 'old' })) as Pod;
    expect([a.spec?.serviceAccountName, a.spec?.serviceAccount]).toEqual(['old', 'old']);
    const b = applyDefaults(pod({ serviceAccountName: 'new', serviceAccount: 'old' })) as Pod;
    expect([b.spec?.serviceAccountName, b.spec?.serviceAccount]).toEqual(['new', 'new']);
    expect((applyDefaults(pod()) as Pod).spec?.serviceAccount).toBeUndefined();
  });
});
