/**
 * Failure is legible: when something breaks in the cluster during a test, the error thrown
 * names the object and the reason and carries the last events and the pod's log tail — and a
 * wait that cannot succeed fails at once instead of at its timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { startCluster, ApplyError, NotReadyError, type KnetCluster } from '../../dataplane/index.js';
import { nodeIP } from '../../dataplane/base/cluster-config.js';

let cluster: KnetCluster;

beforeAll(async () => {
  cluster = await startCluster({ components: { dns: false, ingress: false } });
});
afterAll(async () => {
  await cluster?.close();
});

/** The rejection of a promise that must reject. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('errors that explain themselves', () => {
  it('a crash-looping pod: the deployment, CrashLoopBackOff, the exit code, the BackOff event and the log tail', async () => {
    const err = await rejection(
      cluster.apply(`apiVersion: apps/v1
kind: Deployment
metadata: { name: crashy }
spec:
  replicas: 1
  selector: { matchLabels: { app: crashy } }
  template:
    metadata: { labels: { app: crashy } }
    spec:
      containers:
      - name: app
        image: example.com/crashy:1
        command: ["sh", "-c", "echo starting up; echo 'fatal: DATABASE_URL is not set' >&2; exit 3"]
        ports: [{ containerPort: 8080 }]
        readinessProbe: { tcpSocket: { port: 8080 } }
`),
    );
    expect(err).toBeInstanceOf(NotReadyError);
    const e = err as NotReadyError;
    expect(e.failures[0]).toMatchObject({ object: 'deployment/crashy', reason: 'CrashLoopBackOff', pod: { container: 'app' } });
    expect(e.message).toMatch(/^deployment\/crashy will not get ready: CrashLoopBackOff: pod crashy-\S+ is crash-looping: container app exited with code 3 \(Error\), restarted \d+ times/);
    expect(e.message).toMatch(/last events:\n[\s\S]*Warning BackOff pod\/crashy-\S+: Back-off restarting failed container app/);
    expect(e.message).toMatch(/log tail of pod\/crashy-\S+ container app:\n {2}\| starting up\n {2}\| fatal: DATABASE_URL is not set/);
    await cluster.delete('deployment', 'crashy');
  });

  it('a port that cannot be bound inside a pod: the bind error from the container, its log and events', async () => {
    // Two containers of one pod share its IP: the second cannot have port 8080 too. It may look
    // Ready for the moment before its bind fails; minReadySeconds makes the wait see through that.
    const err = await rejection(
      cluster.apply(`apiVersion: apps/v1
kind: Deployment
metadata: { name: clash }
spec:
  replicas: 1
  minReadySeconds: 1
  selector: { matchLabels: { app: clash } }
  template:
    metadata: { labels: { app: clash } }
    spec:
      containers:
      - name: first
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: ["netexec", "--http-port=8080"]
      - name: second
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: ["netexec", "--http-port=8080"]
`),
    );
    expect(err).toBeInstanceOf(NotReadyError);
    expect(err.message).toMatch(/^deployment\/clash will not get ready: CrashLoopBackOff: pod clash-\S+ is crash-looping: container second exited with code 1 \(Error\), restarted \d+ times/);
    expect(err.message).toMatch(/last events:[\s\S]*Warning BackOff pod\/clash-\S+: Back-off restarting failed container second/);
    expect(err.message).toMatch(/log tail of pod\/clash-\S+ container second:\n(  \| .*\n)*  \| .*listen (tcp|udp) 127\.\d+\.\d+\.\d+:808[01]: bind: address already in use/);
    // Only what is about this deployment: not the events of the crash loop before.
    expect(err.message).not.toContain('crashy');
    await cluster.delete('deployment', 'clash');
  });

  it('a Service port the proxy cannot bind: FailedToBindServicePort with the reason, at once', async () => {
    // Something else on the machine holds node-1's port 30555.
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(30555, nodeIP(cluster.config, 1), resolve));
    try {
      const err = await rejection(
        cluster.apply(
          `apiVersion: v1
kind: Pod
metadata: { name: backend, labels: { app: backend } }
spec:
  containers:
  - name: web
    image: registry.k8s.io/e2e-test-images/agnhost:2.53
    args: ["netexec", "--http-port=8080"]
---
apiVersion: v1
kind: Service
metadata: { name: blocked }
spec:
  type: NodePort
  selector: { app: backend }
  ports: [{ port: 80, targetPort: 8080, nodePort: 30555 }]
`,
          { timeoutMs: 20_000 },
        ),
      );
      expect(err).toBeInstanceOf(NotReadyError);
      expect(err.message).toMatch(/^service\/blocked will not get ready: FailedToBindServicePort: cannot bind 127\.\d+\.18\.2:30555\/TCP: another program holds it/);
      expect(err.message).toMatch(/last events:[\s\S]*Warning FailedToBindServicePort service\/blocked/);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
      await cluster.delete('service', 'blocked');
      await cluster.delete('pod', 'backend', 'default', { gracePeriodSeconds: 0 });
    }
  });

  it('an invalid manifest: nothing is written, and the error names the document, object, field and reason', async () => {
    const err = await rejection(
      cluster.apply(`apiVersion: v1
kind: ConfigMap
metadata: { name: fine }
---
apiVersion: v1
kind: Service
metadata: { name: bad }
spec:
  ports: [{ port: 70000 }]
`),
    );
    expect(err).toBeInstanceOf(ApplyError);
    expect(err.message).toMatch(/<inline> \(document 2\): Service "bad" is invalid: spec\.ports\[0\]\.port: Invalid value: 70000/);
    expect(await cluster.get('configmap', 'fine')).toBeUndefined();
    await expect(cluster.apply('no/such/manifests.yaml')).rejects.toThrow(/no\/such\/manifests\.yaml/);
  });

  it('a pod that never gets ready: the timeout names it and quotes its probe events and log', async () => {
    const err = await rejection(
      cluster.apply(
        `apiVersion: v1
kind: Pod
metadata: { name: unready }
spec:
  containers:
  - name: web
    image: registry.k8s.io/e2e-test-images/agnhost:2.53
    args: ["netexec", "--http-port=8080"]
    readinessProbe:
      tcpSocket: { port: 9999 }
      periodSeconds: 1
`,
        { timeoutMs: 2500 },
      ),
    );
    expect(err).toBeInstanceOf(NotReadyError);
    expect(err.message).toMatch(/^not ready after 2\.5s: pod\/unready: Running/);
    expect(err.message).toMatch(/Warning Unhealthy pod\/unready: Readiness probe failed: dial tcp 127\.\d+\.\d+\.\d+:9999: connect: connection refused/);
    expect(err.message).toMatch(/log tail of pod\/unready container web:\n {2}\| /);
    await cluster.delete('pod', 'unready', 'default', { gracePeriodSeconds: 0 });
  });
});
