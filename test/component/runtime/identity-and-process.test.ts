import { afterAll, describe, expect, it } from 'vitest';
import type { Secret, Service } from 'kubernetes-types/core/v1.js';
import { condition, container, curl, openSocketHandles, podOf, runPod, logText, stopAll, udpAsk, waitFor } from './helpers.js';

// This file's addresses: 127.53.2.0/24.
afterAll(async () => {
  await stopAll();
});

describe('identity responder (any other image)', () => {
  const pod = runPod(
    podOf('web-7d9f', {
      containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 8080 }, { containerPort: 8081, name: 'alt' }, { containerPort: 9053, protocol: 'UDP' }] }],
    }, { namespace: 'shop' }),
    '127.53.2.2',
  );

  it('answers every TCP port with the pod identity as pretty JSON', async () => {
    await waitFor('ready', () => condition(pod.latest(), 'Ready') === 'True');
    const r = await curl('http://127.53.2.2:8080/some/path?x=1', ['--interface', '127.53.2.200', '-H', 'X-Test: yes']);
    expect(r.status).toBe(200);
    expect(r.body.endsWith('}\n')).toBe(true);
    expect(r.body).toContain('\n  "pod": "web-7d9f",\n');
    const id = JSON.parse(r.body) as Record<string, unknown>;
    expect(id).toMatchObject({
      pod: 'web-7d9f',
      namespace: 'shop',
      podIP: '127.53.2.2',
      node: 'node-1',
      container: 'nginx',
      image: 'nginx:1.27',
      request: 'GET /some/path?x=1 HTTP/1.1',
      client: r.local,
      server: '127.53.2.2:8080',
    });
    expect((id.headers as Record<string, string>)['X-Test']).toBe('yes');
    expect((id.headers as Record<string, string>).Host).toBe('127.53.2.2:8080');
    expect(JSON.parse((await curl('http://127.53.2.2:8081/', ['-X', 'POST'])).body)).toMatchObject({ method: 'POST', server: '127.53.2.2:8081' });
  });

  it('echoes datagrams on UDP ports', async () => {
    expect((await udpAsk('127.53.2.2', 9053, 'Hello UDP', '127.53.2.200'))?.reply).toBe('Hello UDP');
  });

  it("also answers on nginx's own port 80, which it declares nowhere", async () => {
    expect(JSON.parse((await curl('http://127.53.2.2:80/')).body)).toMatchObject({ server: '127.53.2.2:80' });
  });
});

describe("a server image's own port (kubectl create deployment --image=nginx declares none)", () => {
  const nginx = runPod(podOf('nginx-0', { containers: [{ name: 'nginx', image: 'docker.io/library/nginx:1.27' }] }), '127.53.2.4');
  const app = runPod(podOf('app-0', { containers: [{ name: 'app', image: 'example.com/team/app:1' }] }), '127.53.2.5');

  it('listens on 80 for nginx, and on nothing for an image it does not know', async () => {
    await waitFor('ready', () => condition(nginx.latest(), 'Ready') === 'True' && condition(app.latest(), 'Ready') === 'True');
    expect(JSON.parse((await curl('http://127.53.2.4/')).body)).toMatchObject({ pod: 'nginx-0', server: '127.53.2.4:80' });
    expect((await curl('http://127.53.2.5/')).code).toBe(7);
  });
});

describe('process containers (command)', () => {
  const services: Service[] = [
    { metadata: { namespace: 'default', name: 'kubernetes' }, spec: { clusterIP: '127.96.0.1', ports: [{ name: 'https', port: 443 }] } },
    { metadata: { namespace: 'default', name: 'redis-master' }, spec: { clusterIP: '127.96.0.11', ports: [{ name: 'db', port: 6379 }] } },
  ];

  it('python3 -m http.server $PORT --bind $POD_IP is reachable and logs to its file', async () => {
    const pod = runPod(
      podOf('py-0', {
        containers: [{ name: 'py', image: 'python:3.12', command: ['sh', '-c', 'exec python3 -u -m http.server $PORT --bind $POD_IP'], ports: [{ containerPort: 8000 }] }],
      }),
      '127.53.2.3',
      { services },
    );
    await waitFor('running', () => container(pod.latest()).state?.running);
    const r = await waitFor('http.server answers', async () => {
      const res = await curl('http://127.53.2.3:8000/');
      return res.status === 200 ? res : undefined;
    });
    expect(r.body).toContain('Directory listing');
    await waitFor('request logged', () => logText(pod, 'py').includes('"GET / HTTP/1.1" 200'));
    await pod.handle.stop(5);
    expect((await curl('http://127.53.2.3:8000/')).code).toBe(7);
  });

  it('gets knet, downward-API, secret/configMap and service variables; $(VAR) in args is expanded', async () => {
    const secret: Secret = { metadata: { namespace: 'default', name: 'creds' }, data: { password: Buffer.from('hunter2').toString('base64') } };
    const pod = runPod(
      podOf('env-0', {
        containers: [{
          name: 'env', image: 'debian:12-slim', ports: [{ containerPort: 7000 }],
          command: ['sh', '-c', 'echo "ARG=$1"; env; exec sleep 600', 'sh', '$(POD_NAME)-$(PORT)'],
          env: [
            { name: 'PW', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
            { name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          ],
          envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
        }],
      }, { labels: { app: 'demo' } }),
      '127.53.2.4',
      { services, secrets: [secret], configMaps: [{ metadata: { namespace: 'default', name: 'cfg' }, data: { MODE: 'prod' } }] },
    );
    const log = await waitFor('env printed', () => {
      const t = logText(pod, 'env');
      return t.includes('REDIS_MASTER_PORT_6379_TCP_ADDR') ? t : undefined;
    });
    const env = new Map(log.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]));
    expect(env.get('ARG')).toBe('env-0-7000');
    expect(Object.fromEntries(['POD_IP', 'POD_NAME', 'POD_NAMESPACE', 'NODE_NAME', 'PORT', 'PW', 'MY_NODE', 'APP', 'CFG_MODE', 'HOSTNAME'].map((k) => [k, env.get(k)]))).toEqual({
      POD_IP: '127.53.2.4', POD_NAME: 'env-0', POD_NAMESPACE: 'default', NODE_NAME: 'node-1', PORT: '7000',
      PW: 'hunter2', MY_NODE: 'node-1', APP: 'demo', CFG_MODE: 'prod', HOSTNAME: 'env-0',
    });
    expect(env.get('REDIS_MASTER_SERVICE_HOST')).toBe('127.96.0.11');
    expect(env.get('REDIS_MASTER_SERVICE_PORT_DB')).toBe('6379');
    expect(env.get('REDIS_MASTER_PORT')).toBe('tcp://127.96.0.11:6379');
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('127.96.0.1');
    expect([...env.keys()].some((k) => k.startsWith('KNET_'))).toBe(false);
  });

  it('a missing secret keeps the container in CreateContainerConfigError until the lookup returns it', async () => {
    const secrets: Secret[] = [];
    const pod = runPod(
      podOf('needs-secret', {
        containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 8080 }], env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'api-token', key: 'token' } } }] }],
      }),
      '127.53.2.5',
      { secrets },
    );
    await waitFor('config error', () => container(pod.latest()).state?.waiting?.reason === 'CreateContainerConfigError');
    expect(container(pod.latest()).state?.waiting?.message).toBe('secret "api-token" not found');
    expect(pod.latest().phase).toBe('Pending');
    expect(pod.events().find((e) => e.reason === 'Failed')).toMatchObject({ type: 'Warning', message: 'Error: secret "api-token" not found', fieldPath: 'spec.containers{app}' });
    expect((await curl('http://127.53.2.5:8080/')).code).toBe(7);
    secrets.push({ metadata: { namespace: 'default', name: 'api-token' }, data: { token: Buffer.from('t0k').toString('base64') } });
    await waitFor('started', () => condition(pod.latest(), 'Ready') === 'True');
    expect(JSON.parse((await curl('http://127.53.2.5:8080/')).body)).toMatchObject({ pod: 'needs-secret' });
    expect(container(pod.latest()).restartCount).toBe(0);
  });

  it('a missing secret volume waits in ContainerCreating with FailedMount, then starts', async () => {
    const secrets: Secret[] = [];
    const pod = runPod(
      podOf('curlpod', {
        volumes: [{ name: 'secret-volume', secret: { secretName: 'nginxsecret' } }],
        containers: [{ name: 'curlpod', image: 'docker.io/curlimages/curl:8.18.0', command: ['sh', '-c', 'while true; do sleep 1; done'], volumeMounts: [{ mountPath: '/etc/nginx/ssl', name: 'secret-volume' }] }],
      }),
      '127.53.2.6',
      { secrets },
    );
    await waitFor('FailedMount', () => pod.events().some((e) => e.reason === 'FailedMount'));
    const s = pod.latest();
    expect(container(s).state?.waiting?.reason).toBe('ContainerCreating');
    expect(condition(s, 'PodReadyToStartContainers')).toBe('False');
    expect(pod.events().find((e) => e.reason === 'FailedMount')?.message).toBe('MountVolume.SetUp failed for volume "secret-volume" : secret "nginxsecret" not found');
    secrets.push({ metadata: { namespace: 'default', name: 'nginxsecret' }, data: {} });
    await waitFor('running', () => container(pod.latest()).state?.running);
    expect(condition(pod.latest(), 'PodReadyToStartContainers')).toBe('True');
  });

  it('a command that does not exist is a StartError and goes into CrashLoopBackOff', async () => {
    const pod = runPod(podOf('nope', { containers: [{ name: 'c', image: 'x', command: ['/definitely/not/here'] }] }), '127.53.2.7');
    await waitFor('backoff', () => container(pod.latest()).state?.waiting?.reason === 'CrashLoopBackOff');
    const s = container(pod.latest());
    expect(s.lastState?.terminated).toMatchObject({ exitCode: 128, reason: 'StartError' });
    expect(pod.events().find((e) => e.reason === 'Failed')?.message).toBe('Error: exec: "/definitely/not/here": executable file not found in $PATH');
  });

  it('a port already taken crashes the container with the bind error in its log', async () => {
    const first = runPod(podOf('port-a', { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 8088 }] }] }), '127.53.2.9');
    await waitFor('first running', () => container(first.latest()).state?.running);
    const second = runPod(podOf('port-b', { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 8088 }] }] }), '127.53.2.9');
    await waitFor('crash loop', () => container(second.latest()).state?.waiting?.reason === 'CrashLoopBackOff');
    expect(container(second.latest()).lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(logText(second, 'c', 'all')).toContain('listen tcp 127.53.2.9:8088: bind: address already in use');
    await second.handle.stop(0);
    await first.handle.stop(0);
  });

  it('init containers run first, in order, before the app starts', async () => {
    const pod = runPod(
      podOf('with-init', {
        initContainers: [
          { name: 'init-a', image: 'debian:12-slim', command: ['sh', '-c', 'echo a'] },
          { name: 'init-b', image: 'debian:12-slim', command: ['sh', '-c', 'echo b'] },
        ],
        containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 8080 }] }],
      }),
      '127.53.2.8',
    );
    await waitFor('ready', () => condition(pod.latest(), 'Ready') === 'True');
    const s = pod.latest();
    expect(condition(s, 'Initialized')).toBe('True');
    expect(s.initContainerStatuses.map((c) => [c.name, c.state?.terminated?.reason, c.ready])).toEqual([['init-a', 'Completed', true], ['init-b', 'Completed', true]]);
    const started = pod.events().filter((e) => e.reason === 'Started').map((e) => e.container);
    expect(started).toEqual(['init-a', 'init-b', 'app']);
  });
});

describe('cleanup', () => {
  it('leaves no listener or socket behind', async () => {
    await stopAll();
    await waitFor('sockets closed', () => openSocketHandles().length === 0, 5000);
  });
});
