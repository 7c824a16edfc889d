/**
 * knet's apiserver driven by the real kubectl (the one on PATH; /usr/bin/kubectl here), with the
 * cluster's own kubeconfig: the everyday read and write commands and the error texts kubectl
 * prints against a real cluster.
 */
import { describe, expect, it } from 'vitest';
import { Agent, fetch } from 'undici';
import type { KnetCluster } from '../../dataplane/index.js';
import { kubectl, kubectlStream } from '../support/kubectl.js';
import { kubectlCluster } from '../support/kubectl-cluster.js';

let cluster: KnetCluster;
let env: NodeJS.ProcessEnv;
const { ok, file } = kubectlCluster({ manifests: 'examples/quickstart' }, { started: (k) => ({ cluster, env } = k) });

describe('kubectl get', () => {
  it('kubectl apply of what knet applied finds nothing to change (the same last-applied annotation, byte for byte)', async () => {
    const out = await ok('apply', '-f', 'examples/quickstart');
    expect(out.trim().split('\n').sort()).toEqual(['deployment.apps/web unchanged', 'ingress.networking.k8s.io/web unchanged', 'service/web unchanged']);
  });

  it('lists pods with kubectl columns, the wide ones with -o wide, every namespace with -A', async () => {
    const table = await ok('get', 'pods');
    expect(table.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(table).toMatch(/web-\S+\s+1\/1\s+Running\s+0\s+\d+s/);
    const wide = await ok('get', 'pods', '-o', 'wide');
    expect(wide.split('\n')[0]).toMatch(/IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
    expect(wide).toContain(cluster.config.podPrefix);
    const all = await ok('get', 'svc', '-A');
    expect(all).toMatch(/^NAMESPACE\s+NAME\s+TYPE/);
    expect(all).toMatch(/kube-system\s+kube-dns\s+ClusterIP/);
    expect(all).toMatch(new RegExp(`default\\s+kubernetes\\s+ClusterIP\\s+${cluster.config.kubernetesServiceIP.replace(/\./g, '\\.')}`));
  });

  it('prints yaml, json and jsonpath from the object, and filters by label', async () => {
    const yaml = await ok('get', 'deploy', 'web', '-o', 'yaml');
    expect(yaml).toContain('kind: Deployment');
    expect(yaml).toContain('name: web');
    const names = await ok('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}');
    expect(names.split(' ')).toHaveLength(3);
    expect(await ok('get', 'pods', '-l', 'app=none', '-o', 'name')).toBe('');
    const nodes = await ok('get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}');
    expect(nodes).toBe('node-1 node-2');
  });

  it('lists what api-resources and get all know, with short names', async () => {
    const resources = await ok('api-resources');
    expect(resources).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
    expect(resources).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(resources).toMatch(/^endpointslices\s+discovery\.k8s\.io\/v1\s+true\s+EndpointSlice$/m);
    const all = await ok('get', 'all');
    expect(all).toContain('deployment.apps/web');
    expect(all).toContain('service/web');
    expect(await ok('get', 'po,svc', '-o', 'name')).toContain('service/kubernetes');
  });

  it('describes a deployment', async () => {
    const text = await ok('describe', 'deployment', 'web');
    expect(text).toMatch(/Replicas:\s+3 desired/);
    expect(text).toMatch(/Selector:\s+app=web/);
  });

  it('streams changes with -w, as table rows', async () => {
    const cm = (name: string) => file(`${name}.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  a: b\n`);
    await ok('create', '-f', cm('listed'));
    const w = kubectlStream(env, ['get', 'configmaps', '-w']);
    try {
      expect(await w.waitForLine((l) => l.startsWith('NAME'))).toMatch(/^NAME\s+DATA\s+AGE$/);
      await w.waitForLine((l) => l.startsWith('listed'));
      // Created after the list: this row comes from the watch, as a Table event.
      await ok('create', '-f', cm('watched'));
      const row = await w.waitForLine((l) => l.startsWith('watched'));
      expect(row).toMatch(/^watched\s+1\s+\d+s$/);
    } finally {
      w.child.kill();
    }
  });

  it('watches a new pod go Pending → ContainerCreating → Running, as on a real cluster', async () => {
    const w = kubectlStream(env, ['get', 'pods', '-w']);
    try {
      await w.waitForLine((l) => l.startsWith('NAME'));
      await ok('run', 'watched', '--image=busybox', '--command', '--', 'sleep', 'infinity');
      await w.waitForLine((l) => /^watched\s+1\/1\s+Running/.test(l));
      const statuses = w.lines.filter((l) => l.startsWith('watched ')).map((l) => l.split(/\s+/)[2]);
      // Created, then bound (both Pending), then the node's first status: its containers waiting.
      expect(statuses.filter((s) => s === 'Pending').length).toBeLessThanOrEqual(2);
      expect(statuses.filter((s, i) => s !== statuses[i - 1])).toEqual(['Pending', 'ContainerCreating', 'Running']);
    } finally {
      w.child.kill();
      await ok('delete', 'pod', 'watched', '--wait=false');
    }
  });
});

describe('kubectl writes', () => {
  it('scales, labels, annotates and patches (merge and json)', async () => {
    expect(await ok('scale', 'deployment', 'web', '--replicas=2')).toContain('deployment.apps/web scaled');
    expect(await ok('get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}')).toBe('2');
    expect(await ok('label', 'deployment', 'web', 'tier=fe')).toContain('labeled');
    expect(await ok('annotate', 'deployment', 'web', 'note=hi')).toContain('annotated');
    expect(await ok('get', 'deploy', 'web', '-o', 'jsonpath={.metadata.labels.tier}/{.metadata.annotations.note}')).toBe('fe/hi');
    expect(await ok('patch', 'deployment', 'web', '--type=merge', '-p', '{"spec":{"replicas":3}}')).toContain('patched');
    expect(await ok('patch', 'deployment', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":1}]')).toContain('patched');
    expect(await ok('get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}')).toBe('1');
    expect(await ok('patch', 'deployment', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":1}]')).toContain('patched (no change)');
    const rollout = await ok('rollout', 'status', 'deployment/web', '--timeout=20s');
    expect(rollout).toContain('successfully rolled out');
  });

  it('creates, replaces and deletes from files, and prints the apiserver errors kubectl users know', async () => {
    const cm = file('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n');
    expect(await ok('create', '-f', cm, '--validate=false')).toContain('configmap/settings created');
    const again = await kubectl(env, ['create', '-f', cm, '--validate=false']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(`Error from server (AlreadyExists): error when creating "${cm}": configmaps "settings" already exists`);

    const live = file('live.yaml', await ok('get', 'configmap', 'settings', '-o', 'yaml'));
    await ok('annotate', 'configmap', 'settings', 'touched=yes');
    const stale = await kubectl(env, ['replace', '-f', live, '--validate=false']);
    expect(stale.code).toBe(1);
    expect(stale.stderr.trim()).toBe(
      `Error from server (Conflict): error when replacing "${live}": Operation cannot be fulfilled on configmaps "settings": the object has been modified; please apply your changes to the latest version and try again`,
    );
    const fresh = file('fresh.yaml', (await ok('get', 'configmap', 'settings', '-o', 'yaml')).replace('mode: fast', 'mode: slow'));
    expect(await ok('replace', '-f', fresh, '--validate=false')).toContain('configmap/settings replaced');
    expect(await ok('get', 'cm', 'settings', '-o', 'jsonpath={.data.mode}')).toBe('slow');

    const bad = file('bad.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: c\n');
    const invalid = await kubectl(env, ['create', '-f', bad, '--validate=false']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr.trim()).toBe('The Pod "bad" is invalid: spec.containers[0].image: Required value');

    const missing = await kubectl(env, ['get', 'pod', 'nope']);
    expect(missing.stderr.trim()).toBe('Error from server (NotFound): pods "nope" not found');
    const missingDeploy = await kubectl(env, ['delete', 'deployment', 'nope']);
    expect(missingDeploy.stderr.trim()).toBe('Error from server (NotFound): deployments.apps "nope" not found');

    expect(await ok('delete', '-f', cm)).toContain('configmap "settings" deleted');
    expect((await kubectl(env, ['get', 'cm', 'settings'])).code).toBe(1);
  });

  it('runs and exposes a pod, waits for it, reads its log and deletes it', async () => {
    expect(await ok('run', 'hello', '--image=registry.k8s.io/e2e-test-images/agnhost:2.53', '--port=8080', '--', '/agnhost', 'netexec', '--http-port=8080')).toContain('pod/hello created');
    expect(await ok('expose', 'pod', 'hello', '--port=80', '--target-port=8080')).toContain('service/hello exposed');
    expect(await ok('wait', '--for=condition=Ready', 'pod/hello', '--timeout=20s')).toContain('condition met');
    expect(await ok('get', 'svc', 'hello', '-o', 'jsonpath={.spec.clusterIP}')).toMatch(/^127\./);
    const res = await cluster.fetch('http://hello.default.svc.cluster.local/hostname');
    expect(await res.text()).toBe('hello');
    expect(await ok('logs', 'hello', '--tail=50')).toContain('GET /hostname');
    expect(await ok('delete', 'pod', 'hello', '--grace-period=0', '--force')).toContain('pod "hello" force deleted');
    expect(await ok('delete', 'service', 'hello')).toContain('service "hello" deleted');
  });

  it('patches strategically, applies client-side (then unchanged) and server-side, and creates from kubectl create <kind> (protobuf)', async () => {
    expect(await ok('patch', 'deployment', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"agnhost","env":[{"name":"MODE","value":"x"}]}]}}}}')).toContain('patched');
    // Merged into the container by name, not replacing the list.
    expect(await ok('get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}/{.spec.template.spec.containers[0].env[0].value}')).toBe('registry.k8s.io/e2e-test-images/agnhost:2.53/x');
    const m = file('applied.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: "1"\n');
    expect(await ok('apply', '-f', m)).toContain('configmap/applied created');
    expect(await ok('apply', '-f', m)).toContain('configmap/applied unchanged');
    const ssa = file('ssa.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "1"\n');
    expect(await ok('apply', '--server-side', '-f', ssa)).toContain('configmap/ssa serverside-applied');
    expect(await ok('get', 'cm', 'ssa', '-o', 'jsonpath={.metadata.managedFields[0].manager}')).toBe('kubectl');
    expect(await ok('create', 'configmap', 'from-literal', '--from-literal=k=v')).toContain('configmap/from-literal created');
    expect(await ok('get', 'cm', 'from-literal', '-o', 'jsonpath={.data.k}')).toBe('v');
  });
});

describe('authentication', () => {
  it('refuses a client without credentials: 401, which kubectl reports as not logged in', async () => {
    const bogus = file(
      'bogus.kubeconfig',
      cluster.kubeconfig.yaml.replace(/client-certificate-data: .*\n/, '').replace(/client-key-data: .*\n/, 'token: not-the-token\n'),
    );
    const r = await kubectl({ ...env, KUBECONFIG: bogus }, ['get', 'pods']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: You must be logged in to the server (Unauthorized)');
  });

  it('is reachable through the kubernetes Service (kube-proxy to the hand-written endpoint), with its CA', async () => {
    const kc = cluster.kubeconfig.yaml;
    const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(kc)![1]!, 'base64').toString();
    const cert = Buffer.from(/client-certificate-data: (\S+)/.exec(kc)![1]!, 'base64').toString();
    const key = Buffer.from(/client-key-data: (\S+)/.exec(kc)![1]!, 'base64').toString();
    const dispatcher = new Agent({ connect: { ca, cert, key, servername: 'kubernetes.default.svc' } });
    try {
      const res = await fetch(`https://${cluster.config.kubernetesServiceIP}/version`, { dispatcher });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { minor: string }).minor).toBe('32');
    } finally {
      await dispatcher.close();
    }
  });
});
