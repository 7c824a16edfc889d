import { describe, expect, it } from 'vitest';
import type { ConfigMap, Container, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import { expandCommand, resolveContainerEnv, type ObjectLookup } from '../../../dataplane/node/runtime/container-env.js';
import { missingVolumeSources } from '../../../dataplane/node/runtime/volume-sources.js';
import { parseQuantity } from '../../../dataplane/node/runtime/resource-quantity.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function lookupOf(secrets: Secret[] = [], configMaps: ConfigMap[] = []): ObjectLookup {
  return {
    secret: (ns, name) => secrets.find((s) => s.metadata?.namespace === ns && s.metadata?.name === name),
    configMap: (ns, name) => configMaps.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name),
  };
}

function podWith(container: Container, extra: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { name: 'web-0', namespace: 'shop', uid: 'u-1', labels: { app: 'web', tier: 'fe' }, annotations: { note: 'hi "there"' } },
    spec: { nodeName: 'node-1', serviceAccountName: 'sa', containers: [container], ...extra },
  };
}

const services: Service[] = [
  { metadata: { namespace: 'default', name: 'kubernetes' }, spec: { clusterIP: '127.96.0.1', ports: [{ port: 443, name: 'https' }] } },
  { metadata: { namespace: 'shop', name: 'cart' }, spec: { clusterIP: '127.96.0.30', ports: [{ port: 80 }] } },
];

function resolve(container: Container, lookup = lookupOf(), spec: Partial<Pod['spec']> = {}) {
  return resolveContainerEnv({ pod: podWith(container, spec), container, podIP: '127.244.1.5', hostIP: '127.18.0.2', nodeName: 'node-1', services, lookup });
}

function envOf(container: Container, lookup = lookupOf(), spec: Partial<Pod['spec']> = {}): Map<string, string> {
  const r = resolve(container, lookup, spec);
  if (!r.ok) throw new Error(r.message);
  return r.env;
}

describe('resolveContainerEnv', () => {
  it('sets the knet variables and the service variables', () => {
    const env = envOf({ name: 'c', image: 'x', ports: [{ containerPort: 8080 }, { containerPort: 9090 }] });
    expect(env.get('POD_IP')).toBe('127.244.1.5');
    expect(env.get('POD_NAME')).toBe('web-0');
    expect(env.get('POD_NAMESPACE')).toBe('shop');
    expect(env.get('NODE_NAME')).toBe('node-1');
    expect(env.get('PORT')).toBe('8080');
    expect(env.get('HOSTNAME')).toBe('web-0');
    expect(env.get('CART_SERVICE_HOST')).toBe('127.96.0.30');
    expect(env.get('KUBERNETES_SERVICE_PORT')).toBe('443');
  });

  it('no PORT without containerPorts; enableServiceLinks=false drops own-namespace services', () => {
    const env = envOf({ name: 'c', image: 'x' }, lookupOf(), { enableServiceLinks: false });
    expect(env.has('PORT')).toBe(false);
    expect(env.has('CART_SERVICE_HOST')).toBe(false);
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('127.96.0.1');
  });

  it('fieldRefs resolve like the downward API', () => {
    const env = envOf({
      name: 'c', image: 'x',
      env: [
        { name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'NOTE', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['note']" } } },
        { name: 'LABELS', valueFrom: { fieldRef: { fieldPath: 'metadata.labels' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
      ],
    });
    expect(Object.fromEntries([...env].filter(([k]) => ['N', 'NS', 'UID', 'APP', 'NOTE', 'LABELS', 'IP', 'HOST', 'NODE', 'SA'].includes(k)))).toEqual({
      N: 'web-0', NS: 'shop', UID: 'u-1', APP: 'web', NOTE: 'hi "there"', LABELS: 'app="web"\ntier="fe"',
      IP: '127.244.1.5', HOST: '127.18.0.2', NODE: 'node-1', SA: 'sa',
    });
  });

  it('resourceFieldRef: limits fall back to node allocatable; divisor rounds up', () => {
    const env = envOf({
      name: 'c', image: 'x',
      resources: { limits: { memory: '128Mi' }, requests: { cpu: '250m' } },
      env: [
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'CPU_REQ', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
        { name: 'CPU_REQ_CORES', valueFrom: { resourceFieldRef: { resource: 'requests.cpu' } } },
        { name: 'CPU_LIM', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      ],
    });
    expect([env.get('MEM'), env.get('CPU_REQ'), env.get('CPU_REQ_CORES'), env.get('CPU_LIM')]).toEqual(['128', '250', '1', '2']);
  });

  it('secretKeyRef and configMapKeyRef; env overrides envFrom; prefix applies', () => {
    const lookup = lookupOf(
      [{ metadata: { namespace: 'shop', name: 'creds' }, data: { password: b64('s3cret'), user: b64('admin') } }],
      [{ metadata: { namespace: 'shop', name: 'cfg' }, data: { MODE: 'prod', LEVEL: 'debug', 'bad key': 'x', '1st': 'y' } }],
    );
    const r = resolve({
      name: 'c', image: 'x',
      envFrom: [{ configMapRef: { name: 'cfg' } }, { secretRef: { name: 'creds' }, prefix: 'DB_' }],
      env: [
        { name: 'MODE', value: 'override' },
        { name: 'PW', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        { name: 'LVL', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'LEVEL' } } },
      ],
    }, lookup);
    if (!r.ok) throw new Error(r.message);
    expect(r.env.get('MODE')).toBe('override');
    expect(r.env.get('LEVEL')).toBe('debug');
    expect(r.env.get('DB_user')).toBe('admin');
    expect(r.env.get('DB_password')).toBe('s3cret');
    expect(r.env.get('PW')).toBe('s3cret');
    expect(r.env.get('LVL')).toBe('debug');
    expect(r.env.has('bad key')).toBe(false);
    expect(r.warnings).toEqual(['Keys [1st, bad key] from the EnvFrom configMap shop/cfg were skipped since they are considered invalid environment variable names.']);
  });

  it.each([
    [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }, 'secret "nope" not found'],
    [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }, 'configmap "nope" not found'],
    [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'missing' } } }, "couldn't find key missing in Secret shop/creds"],
    [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'missing' } } }, "couldn't find key missing in ConfigMap shop/cfg"],
  ])('missing reference %j → %s', (envVar, message) => {
    const lookup = lookupOf([{ metadata: { namespace: 'shop', name: 'creds' }, data: {} }], [{ metadata: { namespace: 'shop', name: 'cfg' }, data: {} }]);
    expect(resolve({ name: 'c', image: 'x', env: [envVar] }, lookup)).toEqual({ ok: false, message });
  });

  it('optional references that are missing are skipped', () => {
    const env = envOf({
      name: 'c', image: 'x',
      envFrom: [{ secretRef: { name: 'nope', optional: true } }],
      env: [
        { name: 'A', valueFrom: { secretKeyRef: { name: 'nope', key: 'k', optional: true } } },
        { name: 'B', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } },
      ],
    });
    expect(env.has('A')).toBe(false);
    expect(env.has('B')).toBe(false);
  });

  it('missing envFrom object is an error', () => {
    expect(resolve({ name: 'c', image: 'x', envFrom: [{ configMapRef: { name: 'gone' } }] })).toEqual({ ok: false, message: 'configmap "gone" not found' });
  });

  it('$(VAR) in values sees earlier env, envFrom and service/knet variables; later vars are not yet defined', () => {
    const env = envOf({
      name: 'c', image: 'x', ports: [{ containerPort: 7000 }],
      env: [
        { name: 'A', value: 'a' },
        { name: 'URL', value: 'http://$(POD_IP):$(PORT)/$(A)/$(B)' },
        { name: 'B', value: 'b' },
        { name: 'SVC', value: '$(CART_SERVICE_HOST):$(CART_SERVICE_PORT)' },
        { name: 'ESC', value: '$$(A)' },
      ],
    });
    expect(env.get('URL')).toBe('http://127.244.1.5:7000/a/$(B)');
    expect(env.get('SVC')).toBe('127.96.0.30:80');
    expect(env.get('ESC')).toBe('$(A)');
  });

  it('user env overrides knet and service variables', () => {
    const env = envOf({ name: 'c', image: 'x', ports: [{ containerPort: 1 }], env: [{ name: 'PORT', value: '9999' }, { name: 'CART_SERVICE_HOST', value: 'mine' }] });
    expect(env.get('PORT')).toBe('9999');
    expect(env.get('CART_SERVICE_HOST')).toBe('mine');
  });

  it('expandCommand expands command and args against the final env', () => {
    const env = new Map([['PORT', '8000'], ['POD_IP', '127.244.1.5']]);
    expect(expandCommand({ name: 'c', command: ['python3', '-m', 'http.server', '$(PORT)'], args: ['--bind', '$(POD_IP)', '$PORT', '$(NOPE)'] }, env)).toEqual({
      command: ['python3', '-m', 'http.server', '8000'],
      args: ['--bind', '127.244.1.5', '$PORT', '$(NOPE)'],
    });
  });
});

describe('missingVolumeSources', () => {
  const pod = (volumes: NonNullable<Pod['spec']>['volumes']): Pod => ({ metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [], volumes } });
  it('reports missing secret and configMap volumes with the kubelet FailedMount text', () => {
    const problems = missingVolumeSources(
      pod([
        { name: 'secret-volume', secret: { secretName: 'nginxsecret' } },
        { name: 'cfg', configMap: { name: 'app-config' } },
        { name: 'opt', secret: { secretName: 'nope', optional: true } },
        { name: 'scratch', emptyDir: {} },
        { name: 'proj', projected: { sources: [{ secret: { name: 'psec' } }] } },
      ]),
      lookupOf(),
    );
    expect(problems).toEqual([
      { volume: 'secret-volume', message: 'MountVolume.SetUp failed for volume "secret-volume" : secret "nginxsecret" not found' },
      { volume: 'cfg', message: 'MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found' },
      { volume: 'proj', message: 'MountVolume.SetUp failed for volume "proj" : secret "psec" not found' },
    ]);
  });
  it('is satisfied once the objects exist; missing item keys are reported', () => {
    const lookup = lookupOf([{ metadata: { namespace: 'shop', name: 's' }, data: { a: b64('1') } }], [{ metadata: { namespace: 'shop', name: 'c' }, data: { x: '1' } }]);
    expect(missingVolumeSources(pod([{ name: 'v', secret: { secretName: 's' } }, { name: 'w', configMap: { name: 'c' } }]), lookup)).toEqual([]);
    expect(missingVolumeSources(pod([{ name: 'w', configMap: { name: 'c', items: [{ key: 'y', path: 'y' }] } }]), lookup)).toEqual([
      { volume: 'w', message: 'MountVolume.SetUp failed for volume "w" : configmap references non-existent config key: y' },
    ]);
  });
});

describe('parseQuantity', () => {
  it.each([['500m', 0.5], ['1', 1], ['128Mi', 134217728], ['1G', 1e9], ['1e3', 1000], ['2Ki', 2048], ['bogus', undefined]])('%s', (q, v) => expect(parseQuantity(q)).toBe(v));
});
