/**
 * A restarted node agent's runtime: it adopts a program an earlier run started (same process,
 * container ID, start time and restartCount; its log goes on), sees it exit without being its
 * parent (ContainerStatusUnknown, then one restart), carries restartCount on for containers
 * that did not survive, does not run a finished init container again, and records every
 * program it runs while it runs. Reclaiming never signals a pid whose start time differs.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { ContainerRecords, reclaimContainers, type ContainerRecord } from '../../../dataplane/node/runtime/container-records.js';
import { ADOPTED_EXIT_UNKNOWN } from '../../../dataplane/node/runtime/adopted-process.js';
import { LOST_CONTAINER_MESSAGE } from '../../../dataplane/node/runtime/container-resume.js';
import { identify, readProcStat } from '../../../dataplane/node/runtime/process-identity.js';
import { container, curl, FAST, logText, podOf, runPod, stopAll, waitFor, type TestPod } from './helpers.js';
import { shimEntry } from '../../../dataplane/node/runtime/process-container.js';

// This file's addresses: 127.53.5.0/24.
const scratch = mkdtempSync(join(tmpdir(), 'knet-adopt-'));
const records = new ContainerRecords(join(scratch, 'nodes', 'node-1', 'containers'));
const TUNING = { ...FAST, adoptPollMs: 50 };
const spawned: number[] = [];

afterAll(async () => {
  await stopAll();
  for (const pid of spawned) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  }
  rmSync(scratch, { recursive: true, force: true });
});

/** Starts a program as an earlier run of the node agent did (own session; no output kept). */
function startEarlier(argv: string[]): number {
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: 'ignore' });
  child.unref();
  spawned.push(child.pid!);
  return child.pid!;
}

/** The same through its container shim, as an earlier run of the node agent starts a program: the shim writes its log. */
async function startEarlierWithShim(argv: string[], logFile: string): Promise<number> {
  const shim = spawn(process.execPath, [shimEntry()], { detached: true, stdio: ['pipe', 'pipe', 'ignore'], env: {} });
  shim.stdin!.end(`${JSON.stringify({ argv, env: process.env, logFile })}\n`);
  const [line] = (await once(createInterface({ input: shim.stdout! }), 'line')) as [string];
  shim.unref();
  const pid = (JSON.parse(line) as { started: { pid: number } }).started.pid;
  spawned.push(pid);
  return pid;
}

const running = (name: string, startedAt: string, restartCount: number, containerID: string): ContainerStatus => ({
  name,
  image: 'python:3.12',
  imageID: 'docker.io/library/python:3.12',
  containerID,
  ready: true,
  started: true,
  restartCount,
  state: { running: { startedAt } },
  lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt, finishedAt: startedAt } },
});

describe('adopting a program an earlier node agent run started', () => {
  const ip = '127.53.5.2';
  const pod: Pod = podOf('py-0', { containers: [{ name: 'web', image: 'python:3.12', command: ['python3', '-u', '-m', 'http.server', '8080', '--bind', ip] }] });
  const logDir = join(scratch, 'logs', 'py-0');
  let adopted: TestPod;
  let earlierPid = 0;

  it('keeps it running as the same container, logging to the same file, without a restart', async () => {
    earlierPid = await startEarlierWithShim(['python3', '-u', '-m', 'http.server', '8080', '--bind', ip], join(logDir, 'web', '2.log'));
    await waitFor('the earlier program to serve', async () => (await curl(`http://${ip}:8080/`)).status === 200);
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    const record: ContainerRecord = { ...identify(earlierPid)!, pod: 'default/py-0', podUID: 'uid-py-0', container: 'web', containerID: 'knet://earlier', startedAt, restartCount: 2 };
    records.write(record);

    adopted = runPod(pod, ip, {}, TUNING, { records, logDir, resume: { running: [record], status: { containerStatuses: [running('web', startedAt, 2, 'knet://earlier')] } } });
    expect(container(adopted.latest())).toMatchObject({ containerID: 'knet://earlier', restartCount: 2, ready: true, started: true, state: { running: { startedAt } } });
    expect(container(adopted.latest()).lastState?.terminated?.reason).toBe('Error');
    expect((await curl(`http://${ip}:8080/adopted`)).status).toBe(404);
    // Its output still reaches the container log: python logs each request to stderr.
    await waitFor('the request in the log', () => logText(adopted, 'web').includes('GET /adopted'));
    expect(adopted.events().map((e) => e.reason)).not.toContain('Started');
    expect(records.list().map((r) => r.pid)).toEqual([earlierPid]);
  });

  it('sees it exit without being its parent: ContainerStatusUnknown, then one restart that serves again', async () => {
    process.kill(earlierPid, 'SIGKILL');
    const after = await waitFor('the restart', () => {
      const c = container(adopted.latest());
      return c.restartCount === 3 && c.state?.running ? c : undefined;
    });
    expect(after.lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'ContainerStatusUnknown', message: ADOPTED_EXIT_UNKNOWN, containerID: 'knet://earlier' });
    expect(after.containerID).not.toBe('knet://earlier');
    await waitFor('the new program to serve', async () => (await curl(`http://${ip}:8080/`)).status === 200);
    // The new program is recorded in place of the old one.
    const [now] = records.list();
    expect(now).toMatchObject({ podUID: 'uid-py-0', container: 'web', containerID: after.containerID, restartCount: 3 });
    expect(now!.pid).not.toBe(earlierPid);
    expect(readProcStat(now!.pid)?.startTime).toBe(now!.startTime);

    await adopted.handle.stop(0);
    expect(records.list()).toEqual([]);
    expect((await curl(`http://${ip}:8080/`)).code).toBe(7);
  });
});

describe('carrying on from the last reported status', () => {
  it('a container that did not survive the agent starts again with the next restartCount and a lost last state', async () => {
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    const p = runPod(podOf('id-0', { containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 8080 }] }] }), '127.53.5.3', {}, TUNING, {
      resume: { running: [], status: { containerStatuses: [{ ...running('app', startedAt, 1, 'knet://gone'), lastState: {} }] } },
    });
    const c = await waitFor('running again', () => (container(p.latest()).state?.running ? container(p.latest()) : undefined));
    expect(c.restartCount).toBe(2);
    expect(c.lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'ContainerStatusUnknown', message: LOST_CONTAINER_MESSAGE, startedAt, containerID: 'knet://gone' });
    expect((await curl('http://127.53.5.3:8080/')).status).toBe(200);
  });

  it('an init container that completed is not run again', async () => {
    const marker = join(scratch, 'init-ran');
    const pod = podOf('init-0', {
      initContainers: [{ name: 'init', image: 'debian:12-slim', command: ['sh', '-c', `echo ran > ${marker}`] }],
      containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 8080 }] }],
    });
    const done = { exitCode: 0, reason: 'Completed', startedAt: '2024-01-01T00:00:00Z', finishedAt: '2024-01-01T00:00:01Z' };
    const p = runPod(pod, '127.53.5.4', {}, TUNING, {
      resume: {
        running: [],
        status: {
          initContainerStatuses: [{ name: 'init', image: 'debian:12-slim', imageID: '', ready: true, restartCount: 0, state: { terminated: done } }],
          containerStatuses: [{ name: 'app', image: 'nginx:1.27', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
        },
      },
    });
    await waitFor('the app running', () => container(p.latest(), 'app').state?.running);
    expect(p.latest().initContainerStatuses[0]).toMatchObject({ restartCount: 0, state: { terminated: done } });
    expect(container(p.latest(), 'app').restartCount).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('container records', () => {
  it('a program is recorded, with its start time, for as long as it runs', async () => {
    const own = new ContainerRecords(join(scratch, 'nodes', 'node-2', 'containers'));
    const p = runPod(podOf('rec-0', { containers: [{ name: 'sleeper', image: 'debian:12-slim', command: ['sleep', '30'] }] }), '127.53.5.5', {}, TUNING, { records: own });
    await waitFor('running', () => container(p.latest()).state?.running);
    const [r] = own.list();
    expect(r).toMatchObject({ pod: 'default/rec-0', podUID: 'uid-rec-0', container: 'sleeper', containerID: container(p.latest()).containerID, restartCount: 0 });
    const stat = readProcStat(r!.pid)!;
    expect(stat.startTime).toBe(r!.startTime);
    // Its own session and process group: the container's main process leads both.
    expect(stat.pgrp).toBe(r!.pid);
    expect(stat.session).toBe(r!.pid);
    await p.handle.stop(0);
    expect(own.list()).toEqual([]);
    expect(readProcStat(r!.pid)?.startTime === r!.startTime).toBe(false);
  });

  it('reclaiming kills a recorded group, and never a pid whose start time differs (reused)', async () => {
    const nodes = join(scratch, 'reclaim');
    const reclaim = new ContainerRecords(join(nodes, 'node-1', 'containers'));
    // A shell leading a group with a sleep in it: both must go.
    const leader = startEarlier(['sh', '-c', 'sleep 30 & wait']);
    await waitFor('the sleep in its group', () => readdirPids().some((pid) => pid !== leader && readProcStat(pid)?.pgrp === leader));
    reclaim.write({ ...identify(leader)!, pod: 'default/a', podUID: 'uid-a', container: 'c', containerID: 'knet://a', startedAt: new Date().toISOString(), restartCount: 0 });
    // The same pid of a process that is not the recorded one (its start time differs).
    const bystander = startEarlier(['sleep', '30']);
    reclaim.write({ pid: bystander, startTime: '1', pod: 'default/b', podUID: 'uid-b', container: 'c', containerID: 'knet://b', startedAt: new Date().toISOString(), restartCount: 0 });

    expect(await reclaimContainers(nodes)).toEqual([`default/a/c (pid ${leader})`]);
    expect(readdirPids().filter((pid) => readProcStat(pid)?.pgrp === leader && readProcStat(pid)?.state !== 'Z')).toEqual([]);
    expect(readProcStat(bystander)?.state).not.toBe('Z');
    expect(reclaim.list()).toEqual([]);
  });
});

function readdirPids(): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}
