/**
 * `knet down` when nothing of the cluster is left to stop its pods' programs: the supervisor is
 * gone (killed) and so is the node agent that started a program, which still listens on its pod
 * address. `down` stops it from the agent's record, says so, and leaves no listener.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterConfig } from '../../dataplane/base/cluster-config.js';
import { cliEntry } from '../../dataplane/cluster/cluster.js';
import { ContainerRecords } from '../../dataplane/node/runtime/container-records.js';
import { identify } from '../../dataplane/node/runtime/process-identity.js';
import { processExists } from '../support/block-sockets.js';

const exec = promisify(execFile);
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'knet-down-'));
const name = `down${process.pid}`;
const address = '127.53.6.2';
let program: number | undefined;

afterAll(() => {
  if (program && processExists(program)) process.kill(-program, 'SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
});

function connectError(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('knet down after the supervisor and a node agent were killed', () => {
  it('stops the program the agent left, from its record, and no listener is left', async () => {
    const dir = path.join(stateDir, name);
    mkdirSync(dir, { recursive: true });
    // A supervisor that is gone.
    const gone = spawn('true');
    await once(gone, 'exit');
    writeFileSync(
      path.join(dir, 'cluster.json'),
      JSON.stringify({ name, redisUrl: 'redis://127.0.0.1:1', embeddedRedis: false, config: clusterConfig(0, name), supervisorPid: gone.pid, startedAt: new Date().toISOString(), mode: 'processes' }),
    );
    // A program as a node agent starts it (its own session), still listening after the agent died.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(8080, '${address}', () => console.log('listening'))`], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    program = child.pid!;
    await once(child.stdout!, 'data');
    child.stdout!.destroy();
    child.unref();
    new ContainerRecords(path.join(dir, 'nodes', 'node-1', 'containers')).write({ ...identify(program)!, pod: 'default/web', podUID: 'uid-web', container: 'server', containerID: 'knet://web', startedAt: new Date().toISOString(), restartCount: 0 });
    expect(await connectError(address, 8080)).toBe('connected');

    const { stdout } = await exec(process.execPath, [cliEntry(), 'down', '--state-dir', stateDir, '--cluster', name]);
    expect(stdout.trim().split('\n')).toEqual([
      `stopped 1 program left running by a killed node agent: default/web/server (pid ${program})`,
      `cluster "${name}" was not running; removed its stale state file`,
    ]);
    expect(processExists(program)).toBe(false);
    expect(await connectError(address, 8080)).toBe('ECONNREFUSED');
  });
});
