/**
 * Standing inside a pod through the Kubernetes API: the real kubectl (1.32, WebSocket v5) and
 * @kubernetes/client-node (v4) run `exec`, `attach`, `cp` and `run -i` against knet's apiserver,
 * which validates them as kube-apiserver does and passes them through to the pod's node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
// Not re-exported by the package's index; Exec takes it to choose the subprotocols offered.
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import WebSocket from 'ws';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KnetCluster } from '../../dataplane/index.js';
import { agnhostWeb } from '../support/agnhost.js';
import { clientPod, programPod, stdinShellPod } from '../support/exec-pods.js';
import { kubectl, kubectlBinary, kubectlInTerminal } from '../support/kubectl.js';
import { kubectlCluster } from '../support/kubectl-cluster.js';

const MANIFESTS = [
  agnhostWeb({ name: 'web' }),
  clientPod('client', { env: { GREETING: 'hello' } }),
  stdinShellPod('waiter', 'busybox:1.36'),
  `apiVersion: v1
kind: Pod
metadata: { name: catter }
spec:
  containers:
  - name: cat
    image: debian:12-slim
    command: [cat]
    stdin: true
`,
  programPod('prog'),
].join('---\n');

/** Pods that never become ready: applied without waiting. */
const NOT_READY = `
apiVersion: v1
kind: Pod
metadata: { name: initializing }
spec:
  initContainers:
  - name: init
    image: busybox:1.36
    command: [sleep, infinity]
  containers:
  - name: main
    image: busybox:1.36
    command: [sleep, infinity]
---
apiVersion: v1
kind: Pod
metadata: { name: done }
spec:
  restartPolicy: Never
  containers:
  - name: once
    image: busybox:1.36
    command: [sh, -c, "echo done"]
`;

let cluster: KnetCluster;
let env: NodeJS.ProcessEnv;
let kc: k8s.KubeConfig;
const dir = mkdtempSync(path.join(os.tmpdir(), 'knet-exec-'));

kubectlCluster(
  { manifests: MANIFESTS, components: { ingress: false } },
  {
    async started(k) {
      ({ cluster, env } = k);
      await cluster.apply(NOT_READY, { wait: false });
      kc = new k8s.KubeConfig();
      kc.loadFromString(cluster.kubeconfig.yaml);
    },
  },
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A long-running kubectl with a stdin to write to; resolves `waitFor` when its stdout matches. */
function kubectlSession(args: string[]): { child: ChildProcess; stdout: () => string; waitFor(re: RegExp): Promise<void>; exited: Promise<number> } {
  const child = spawn(kubectlBinary(), args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: Array<{ re: RegExp; resolve: () => void }> = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) {
      if (!w.re.test(out)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  return {
    child,
    stdout: () => out,
    exited,
    waitFor: (re) =>
      re.test(out)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ re, resolve });
            void exited.then((code) => reject(new Error(`kubectl ${args.join(' ')} exited ${code} before printing ${re}; stdout: ${out} stderr: ${err}`)));
          }),
  };
}

describe('kubectl exec through the API', () => {
  it("runs a command with the container's environment and files, output and exit code as kubectl prints them", async () => {
    expect(await kubectl(env, ['exec', 'client', '--', 'printenv', 'GREETING'])).toEqual({ code: 0, stdout: 'hello\n', stderr: '' });
    const resolv = await kubectl(env, ['exec', 'client', '--', 'cat', '/etc/resolv.conf']);
    expect(resolv.code).toBe(0);
    expect(resolv.stdout).toBe(`search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver ${cluster.config.dnsServiceIP}\noptions ndots:5\n`);
    const failed = await kubectl(env, ['exec', 'client', '--', 'sh', '-c', 'echo partial; exit 3']);
    expect(failed).toEqual({ code: 3, stdout: 'partial\n', stderr: 'command terminated with exit code 3\n' });
    // Over WebSocket v5, answered 101 at once: kubectl never falls back to SPDY.
    const verbose = await kubectl(env, ['exec', '-v=8', 'client', '--', 'true']);
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toContain('The subprotocol is v5.channel.k8s.io');
    expect(verbose.stderr).not.toMatch(/SPDY/i);
    const missing = await kubectl(env, ['exec', 'client', '--', 'nosuchtool']);
    expect(missing).toMatchObject({ code: 127, stderr: 'sh: nosuchtool: not found\ncommand terminated with exit code 127\n' });
  });

  it("connects from the client pod's own IP to a Service by its short name", async () => {
    const client = (await cluster.get<Pod>('pod', 'client'))!;
    const r = await kubectl(env, ['exec', 'client', '--', 'wget', '-qO-', 'http://web/clientip']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${client.status!.podIP!.replace(/\./g, '\\.')}:\\d+$`));
  });

  it('passes stdin through with -i, its end included', async () => {
    expect(await kubectl(env, ['exec', '-i', 'client', '--', 'cat'], 'data\nmore data\n')).toEqual({ code: 0, stdout: 'data\nmore data\n', stderr: '' });
    expect(await kubectl(env, ['exec', '-i', 'client', '--', 'sh', '-c', 'wc -l'], 'a\nb\nc\n')).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\s*3\n$/) });
    expect(await kubectl(env, ['exec', '-i', 'prog', '--', 'tr', 'a-z', 'A-Z'], 'from a program\n')).toEqual({ code: 0, stdout: 'FROM A PROGRAM\n', stderr: '' });
  });

  it('gives -it a terminal: a prompt, line editing, and the shell ends with exit', async () => {
    const term = await kubectlInTerminal(env, ['exec', '-it', 'client', '--', 'sh']);
    term.write('echo hi $((6*7)); exit\r');
    expect(await term.exited).toBe(0);
    expect(term.screen()).toContain('hi 42\r\n');
  });

  it('says what kubectl says for a missing pod, a wrong container, one not running and a completed pod', async () => {
    expect(await kubectl(env, ['exec', 'nosuch', '--', 'ls'])).toMatchObject({ code: 1, stderr: 'Error from server (NotFound): pods "nosuch" not found\n' });
    expect(await kubectl(env, ['exec', 'client', '-c', 'nope', '--', 'ls'])).toMatchObject({ code: 1, stderr: 'Error from server (BadRequest): container nope is not valid for pod client\n' });
    await cluster.waitFor(async () => (await cluster.get<Pod>('pod', 'initializing'))?.status?.initContainerStatuses?.[0]?.state?.running, 'the init container to run');
    expect(await kubectl(env, ['exec', 'initializing', '-c', 'main', '--', 'ls'])).toMatchObject({ code: 1, stderr: 'error: unable to upgrade connection: container not found ("main")\n' });
    await cluster.waitFor(async () => (await cluster.get<Pod>('pod', 'done'))?.status?.phase === 'Succeeded', 'pod done to complete');
    expect(await kubectl(env, ['exec', 'done', '--', 'ls'])).toMatchObject({ code: 1, stderr: 'error: cannot exec into a container in a completed pod; current phase is Succeeded\n' });
  });
});

describe('kubectl cp', () => {
  it('copies a binary file into an emulated pod and back, byte for byte', async () => {
    const data = randomBytes(70_000);
    const local = path.join(dir, 'blob.bin');
    writeFileSync(local, data);
    const up = await kubectl(env, ['cp', local, 'client:/tmp/blob.bin']);
    expect(up).toMatchObject({ code: 0 });
    expect((await cluster.exec('client', ['wc', '-c', '/tmp/blob.bin'])).stdout.trim()).toBe('70000 /tmp/blob.bin');
    const back = path.join(dir, 'back.bin');
    const down = await kubectl(env, ['cp', 'client:/tmp/blob.bin', back]);
    expect(down.code).toBe(0);
    // busybox tar's note, which kubectl cp passes on.
    expect(down.stdout).toBe("tar: removing leading '/' from member names\n");
    expect(readFileSync(back).equals(data)).toBe(true);
  });

  it('copies a directory out of a pod, into a directory that exists in it', async () => {
    await cluster.exec('client', ['sh', '-c', 'mkdir -p /srv/site/css && echo "<h1>hi</h1>" > /srv/site/index.html && echo "p{}" > /srv/site/css/a.css']);
    const out = path.join(dir, 'site');
    expect((await kubectl(env, ['cp', 'client:/srv/site', out])).code).toBe(0);
    expect(readFileSync(path.join(out, 'index.html'), 'utf8')).toBe('<h1>hi</h1>\n');
    expect(readFileSync(path.join(out, 'css', 'a.css'), 'utf8')).toBe('p{}\n');
    // Into an existing directory: kubectl asks `test -d` first, then unpacks there under the file's name.
    expect((await kubectl(env, ['cp', path.join(out, 'index.html'), 'client:/tmp'])).code).toBe(0);
    expect((await cluster.exec('client', ['cat', '/tmp/index.html'])).stdout).toBe('<h1>hi</h1>\n');
  });

  it("copies in and out of a program's container with the host's tar", async () => {
    const target = mkdtempSync(path.join(os.tmpdir(), 'knet-exec-prog-'));
    try {
      const local = path.join(dir, 'note.txt');
      writeFileSync(local, 'for the program\n');
      expect((await kubectl(env, ['cp', local, `prog:${target}/note.txt`])).code).toBe(0);
      expect(readFileSync(path.join(target, 'note.txt'), 'utf8')).toBe('for the program\n');
      const back = path.join(dir, 'note-back.txt');
      expect((await kubectl(env, ['cp', `prog:${target}/note.txt`, back])).code).toBe(0);
      expect(readFileSync(back, 'utf8')).toBe('for the program\n');
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  });
});

describe('kubectl attach and run -i', () => {
  it("attaches to a running shell's stdin and output; detaching leaves it running", async () => {
    const s = kubectlSession(['attach', '-i', 'waiter']);
    s.child.stdin!.write('echo attached-$((1+2))\n');
    await s.waitFor(/attached-3\n/);
    s.child.kill('SIGINT');
    await s.exited;
    expect((await cluster.get<Pod>('pod', 'waiter'))!.status?.containerStatuses?.[0]?.state?.running).toBeTruthy();
    // The shell kept its state for the next session.
    const again = kubectlSession(['attach', '-i', 'waiter']);
    again.child.stdin!.write('echo again\n');
    await again.waitFor(/again\n/);
    again.child.kill('SIGINT');
    await again.exited;
  });

  it("attaches to a program's stdin, its output read from its log as it writes it", async () => {
    const s = kubectlSession(['attach', '-i', 'catter']);
    s.child.stdin!.write('line one\n');
    await s.waitFor(/line one\n/);
    s.child.stdin!.write('line two\n');
    await s.waitFor(/line one\nline two\n/);
    s.child.kill('SIGINT');
    await s.exited;
    expect(await cluster.logs('catter')).toBe('line one\nline two\n');
  });

  it('runs -it with a terminal: the prompt, a command, exit, the pod deleted', async () => {
    const term = await kubectlInTerminal(env, ['run', '-it', '--rm', 'shell', '--image=busybox', '--restart=Never', '--', 'sh']);
    term.write('echo hi $((6*7)); exit\r');
    expect(await term.exited).toBe(0);
    expect(term.screen()).toContain('hi 42\r\n');
    expect(term.screen()).toContain('pod "shell" deleted');
  });

  it('runs a pod, feeds it stdin, reports its exit code and deletes it (--rm)', async () => {
    const ok = await kubectl(env, ['run', '-i', '--rm', 'once', '--image=busybox', '--restart=Never', '--', 'sh'], 'echo hi-from-run\nhostname\n');
    expect(ok).toMatchObject({ code: 0, stdout: 'hi-from-run\nonce\npod "once" deleted\n' });
    const failed = await kubectl(env, ['run', '-i', '--rm', 'fails', '--image=busybox', '--restart=Never', '--', 'sh'], 'exit 3\n');
    expect(failed.code).toBe(3);
    expect(failed.stderr).toContain('pod default/fails terminated (Error)');
    await cluster.waitFor(async () => !(await cluster.get('pod', 'once')) && !(await cluster.get('pod', 'fails')), 'the --rm pods to be gone');
  });
});

describe('@kubernetes/client-node Exec', () => {
  const sink = (chunks: Buffer[]) =>
    new Writable({
      write(c: Buffer, _e, done) {
        chunks.push(c);
        done();
      },
    });

  it('runs a command over v4.channel.k8s.io, stdout and stderr apart, the exit code in the Status', async () => {
    let protocol = '';
    const handler = new WebSocketHandler(kc, (uri, _protocols, opts) => {
      const ws = new WebSocket(uri, ['v4.channel.k8s.io'], opts);
      ws.once('open', () => (protocol = ws.protocol));
      return ws;
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const status = await new Promise<k8s.V1Status>((resolve) => {
      void new k8s.Exec(kc, handler).exec('default', 'client', 'client', ['sh', '-c', 'echo out; echo err >&2; exit 4'], sink(out), sink(err), null, false, resolve);
    });
    expect(protocol).toBe('v4.channel.k8s.io');
    expect(Buffer.concat(out).toString()).toBe('out\n');
    expect(Buffer.concat(err).toString()).toBe('err\n');
    expect(status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '4' }] } });
  });

  it('sends stdin and its end over v5 (its default)', async () => {
    const out: Buffer[] = [];
    const stdin = new PassThrough();
    const status = await new Promise<k8s.V1Status>((resolve) => {
      void new k8s.Exec(kc).exec('default', 'client', 'client', ['cat'], sink(out), null, stdin, false, resolve);
      stdin.end('piped\n');
    });
    expect(status.status).toBe('Success');
    expect(Buffer.concat(out).toString()).toBe('piped\n');
  });

  it('speaks v4.base64.channel.k8s.io (text frames) too', async () => {
    const opts: WebSocket.ClientOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const server = kc.getCurrentCluster()!.server.replace(/^https/, 'wss');
    const ws = new WebSocket(`${server}/api/v1/namespaces/default/pods/client/exec?command=echo&command=b64&stdout=true&stderr=true`, ['v4.base64.channel.k8s.io'], opts);
    const frames: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (d: Buffer, isBinary: boolean) => frames.push(isBinary ? '<binary>' : d.toString()));
      ws.on('close', () => resolve());
      ws.on('error', reject);
    });
    expect(ws.protocol).toBe('v4.base64.channel.k8s.io');
    expect(frames[0]).toBe(`1${Buffer.from('b64\n').toString('base64')}`);
    expect(JSON.parse(Buffer.from(frames.at(-1)!.slice(1), 'base64').toString())).toMatchObject({ status: 'Success' });
  });

  it('refuses an exec without an upgrade, as kube-apiserver does', async () => {
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request(`${kc.getCurrentCluster()!.server}/api/v1/namespaces/default/pods/client/exec?command=ls`, { ...opts, method: 'GET' }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(400);
    expect(JSON.parse(body)).toMatchObject({ kind: 'Status', reason: 'BadRequest', message: 'Upgrade request required' });
  });

  it('answers odd upgrade requests with a Status and keeps serving', async () => {
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const server = kc.getCurrentCluster()!.server;
    const upgradeStatus = (pathname: string, extra: https.RequestOptions = {}) =>
      new Promise<{ status: number; reason?: string; message?: string }>((resolve, reject) => {
        // agent: false: a connection of its own (a kept-alive one would carry another request's certificate).
        const req = https.request(`${server}${pathname}`, {
          ...opts,
          agent: false,
          ...extra,
          headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), 'Sec-WebSocket-Protocol': 'v5.channel.k8s.io', ...(extra.headers as Record<string, string>) },
        });
        req.on('upgrade', (res, socket) => {
          socket.destroy();
          resolve({ status: res.statusCode ?? 0 });
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => {
            const st = JSON.parse(text) as { reason?: string; message?: string };
            resolve({ status: res.statusCode ?? 0, reason: st.reason, message: st.message });
          });
        });
        req.on('error', reject);
        req.end();
      });
    // No credentials.
    expect(await upgradeStatus('/api/v1/namespaces/default/pods/client/exec?command=ls', { cert: undefined, key: undefined, headers: {} })).toMatchObject({ status: 401, reason: 'Unauthorized' });
    expect(await upgradeStatus('/api/v1/namespaces/default/services/web/exec?command=ls')).toMatchObject({ status: 400, reason: 'BadRequest' });
    expect(await upgradeStatus('/api/v1/watch/pods')).toMatchObject({ status: 400, reason: 'BadRequest' });
    expect(await upgradeStatus('/api/v1/namespaces/default/pods/client/exec?command=ls', { method: 'PUT' })).toMatchObject({ status: 405, reason: 'MethodNotAllowed' });
    expect(await upgradeStatus('/api/v1/namespaces/default/pods/%zz/exec')).toMatchObject({ status: 400 });
    // A stream that starts and is dropped at once, stdin left open, breaks nothing.
    expect(await upgradeStatus('/api/v1/namespaces/default/pods/client/exec?command=cat&stdin=true&stdout=true')).toEqual({ status: 101 });
    expect(await kubectl(env, ['exec', 'client', '--', 'echo', 'still serving'])).toMatchObject({ code: 0, stdout: 'still serving\n' });
  });
});