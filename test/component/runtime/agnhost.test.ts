import { afterAll, describe, expect, it } from 'vitest';
import { condition, container, curl, openSocketHandles, podOf, runPod, logText, stopAll, udpAsk, waitFor } from './helpers.js';

const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.47';
// This file's addresses: 127.53.1.0/24.
const CLIENT = '127.53.1.200';

afterAll(async () => {
  await stopAll();
});

describe('agnhost netexec', () => {
  const pod = runPod(podOf('netexec-0', { containers: [{ name: 'agnhost', image: AGNHOST, args: ['netexec', '--http-port=8080', '--udp-port=8081'] }] }), '127.53.1.2');

  it('becomes Running and Ready with the kubelet events', async () => {
    await waitFor('ready', () => condition(pod.latest(), 'Ready') === 'True');
    const s = pod.latest();
    expect(s.phase).toBe('Running');
    expect(container(s)).toMatchObject({ name: 'agnhost', ready: true, started: true, restartCount: 0 });
    expect(container(s).state?.running?.startedAt).toBeTruthy();
    expect(pod.events().map((e) => [e.type, e.reason, e.message])).toEqual([
      ['Normal', 'Pulled', `Container image "${AGNHOST}" already present on machine`],
      ['Normal', 'Created', 'Created container: agnhost'],
      ['Normal', 'Started', 'Started container agnhost'],
    ]);
    expect(pod.history.flatMap((h) => h.events).map((e) => e.reason)).toEqual(['Pulled', 'Created', 'Started']);
  });

  it('answers /hostname, /hostName, /echo, /healthz and / over HTTP', async () => {
    expect(await curl('http://127.53.1.2:8080/hostname')).toMatchObject({ status: 200, body: 'netexec-0' });
    expect((await curl('http://127.53.1.2:8080/hostName')).body).toBe('netexec-0');
    expect((await curl('http://127.53.1.2:8080/echo?msg=hello%20world')).body).toBe('hello world');
    expect(await curl('http://127.53.1.2:8080/echo?msg=teapot&code=418')).toMatchObject({ status: 418, body: 'teapot' });
    expect((await curl('http://127.53.1.2:8080/healthz')).status).toBe(200);
    expect((await curl('http://127.53.1.2:8080/')).body).toMatch(/^NOW: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect((await curl('http://127.53.1.2:8080/shell?cmd=id')).status).toBe(501);
  });

  it('/clientip is the peer ip:port', async () => {
    const r = await curl('http://127.53.1.2:8080/clientip', ['--interface', CLIENT]);
    expect(r.body).toBe(r.local);
    expect(r.body.startsWith(`${CLIENT}:`)).toBe(true);
  });

  it('UDP answers hostname, echo (lower-cased, as upstream) and clientip; ignores unknown commands', async () => {
    expect((await udpAsk('127.53.1.2', 8081, 'hostname', CLIENT))?.reply).toBe('netexec-0');
    expect((await udpAsk('127.53.1.2', 8081, 'echo Foo Bar\n', CLIENT))?.reply).toBe('foo bar');
    const ip = await udpAsk('127.53.1.2', 8081, 'clientip', CLIENT);
    expect(ip?.reply).toBe(ip?.local);
    expect(await udpAsk('127.53.1.2', 8081, 'nonsense', CLIENT, 300)).toBeUndefined();
  });

  it('/dial reaches another pod from the pod IP', async () => {
    const r = await curl('http://127.53.1.2:8080/dial?host=127.53.1.2&port=8080&request=clientip&protocol=http&tries=2');
    const out = JSON.parse(r.body) as { responses: string[] };
    expect(out.responses).toHaveLength(2);
    expect(out.responses[0]!.startsWith('127.53.1.2:')).toBe(true);
    const udp = JSON.parse((await curl('http://127.53.1.2:8080/dial?host=127.53.1.2&port=8081&request=hostname&protocol=udp')).body) as { responses: string[] };
    expect(udp.responses).toEqual(['netexec-0']);
    const refused = JSON.parse((await curl('http://127.53.1.2:8080/dial?host=127.53.1.2&port=1&request=x')).body) as { errors: string[] };
    expect(refused.errors[0]).toContain('connect: connection refused');
  });

  it('log file has what agnhost logs', async () => {
    const text = logText(pod, 'agnhost');
    expect(text).toContain('Started HTTP server on port 8080');
    expect(text).toContain('GET /hostname');
  });
});

describe('agnhost /exit and restartPolicy', () => {
  it('Always: /exit?code=1 restarts the container and counts it; it serves again', async () => {
    const pod = runPod(podOf('exit-always', { containers: [{ name: 'c', image: AGNHOST, args: ['netexec', '--http-port=8080', '--udp-port=-1'] }] }), '127.53.1.3');
    await waitFor('running', () => container(pod.latest()).state?.running);
    const exit = await curl('http://127.53.1.3:8080/exit?code=1');
    expect(exit.code).toBe(52); // empty reply: os.Exit before any response, as upstream
    await waitFor('restarted', () => container(pod.latest()).restartCount === 1 && container(pod.latest()).state?.running);
    const s = container(pod.latest());
    expect(s.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(pod.latest().phase).toBe('Running');
    await waitFor('serving again', async () => (await curl('http://127.53.1.3:8080/hostname')).body === 'exit-always');
    // With --udp-port=-1 netexec's /healthz never reports ready (faithful to upstream).
    expect((await curl('http://127.53.1.3:8080/healthz')).status).toBe(412);
  });

  it('Never: /exit?code=1 leaves the container terminated and the pod Failed', async () => {
    const pod = runPod(podOf('exit-never', { restartPolicy: 'Never', containers: [{ name: 'c', image: AGNHOST, args: ['netexec'] }] }), '127.53.1.4');
    await waitFor('running', () => container(pod.latest()).state?.running);
    await curl('http://127.53.1.4:8080/exit?code=1');
    await waitFor('terminated', () => container(pod.latest()).state?.terminated);
    const s = pod.latest();
    expect(container(s)).toMatchObject({ restartCount: 0, ready: false, state: { terminated: { exitCode: 1, reason: 'Error' } } });
    expect(s.phase).toBe('Failed');
    expect(condition(s, 'Ready')).toBe('False');
    expect((await curl('http://127.53.1.4:8080/hostname')).code).toBe(7); // connection refused
  });

  it('OnFailure: /exit?code=0 with a timeout answers, completes and is not restarted', async () => {
    const pod = runPod(podOf('exit-ok', { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: AGNHOST, args: ['netexec', '--udp-port=-1'] }] }), '127.53.1.5');
    await waitFor('running', () => container(pod.latest()).state?.running);
    expect((await curl('http://127.53.1.5:8080/exit?code=0&timeout=1s')).status).toBe(200);
    await waitFor('terminated', () => container(pod.latest()).state?.terminated);
    expect(container(pod.latest()).state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(pod.latest().phase).toBe('Succeeded');
  });
});

describe('agnhost serve-hostname and pause', () => {
  it('serve-hostname answers the pod name on --port (default 9376)', async () => {
    const pod = runPod(podOf('sh-0', { containers: [{ name: 'c', image: 'k8s.gcr.io/e2e-test-images/agnhost:2.21', args: ['serve-hostname'] }] }), '127.53.1.6');
    await waitFor('running', () => container(pod.latest()).state?.running);
    expect((await curl('http://127.53.1.6:9376/anything')).body).toBe('sh-0');
  });

  it('serve-hostname keeps serving after SIGTERM until the grace period ends, then is killed', async () => {
    const pod = runPod(podOf('sh-1', { containers: [{ name: 'c', image: AGNHOST, command: ['/agnhost', 'serve-hostname', '--port', '9377'] }] }), '127.53.1.7');
    await waitFor('running', () => container(pod.latest()).state?.running);
    const stopped = pod.handle.stop(1);
    expect((await curl('http://127.53.1.7:9377/')).body).toBe('sh-1');
    await stopped;
    expect(container(pod.latest()).state?.terminated).toMatchObject({ exitCode: 137, signal: 9 });
    expect((await curl('http://127.53.1.7:9377/')).code).toBe(7);
    expect(pod.events().map((e) => e.reason)).toContain('Killing');
  });

  it('pause runs with no listener and exits 2 on SIGTERM', async () => {
    const pod = runPod(podOf('pause-0', { containers: [{ name: 'c', image: AGNHOST, args: ['pause'], ports: [{ containerPort: 8080 }] }] }), '127.53.1.8');
    await waitFor('running', () => container(pod.latest()).state?.running);
    expect((await curl('http://127.53.1.8:8080/')).code).toBe(7);
    await pod.handle.stop(5);
    expect(container(pod.latest()).state?.terminated?.exitCode).toBe(2);
  });
});

describe('cleanup', () => {
  it('leaves no listener or socket behind', async () => {
    await stopAll();
    await waitFor('sockets closed', () => openSocketHandles().length === 0, 5000);
  });
});
