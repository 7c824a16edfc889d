/**
 * Port 53 for real without privilege: the server runs in a child process as uid 65534
 * (nobody), where binding 127.50.0.15:53 fails with EACCES; it must warn once with the
 * fixes and answer on 5353. Skipped when it cannot apply: not root (cannot switch user),
 * unprivileged low ports allowed by sysctl, or the checkout unreadable by nobody.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { dig } from './support.js';

const ADDRESS = '127.50.0.15';
const NOBODY = 65534;
const register = fileURLToPath(new URL('../../bench/dns/register.mjs', import.meta.url));
const child = fileURLToPath(new URL('./fixtures/unprivileged-dns.ts', import.meta.url));

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: cannot start a child as nobody';
  try {
    if (Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')) <= 53) return 'unprivileged users may bind port 53 here';
  } catch {
    return 'not Linux';
  }
  const probe = spawnSync(process.execPath, ['-e', `require('fs').readFileSync(${JSON.stringify(child)})`], { uid: NOBODY, gid: NOBODY });
  if (probe.status !== 0) return 'the checkout is not readable by nobody';
  return undefined;
}

const reason = skipReason();

it.skipIf(reason !== undefined)(`an unprivileged server falls back to 5353 and says how to get 53 (${reason ?? 'runs'})`, async () => {
  const proc = spawn(process.execPath, ['--import', register, child, ADDRESS], { uid: NOBODY, gid: NOBODY, stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const first = await new Promise<string>((resolve, reject) => {
      let out = '';
      proc.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      proc.on('exit', (code) => reject(new Error(`child exited with ${code}`)));
    });
    const report = JSON.parse(first) as { uid: number; port: number; lines: string[] };
    expect(report.uid).toBe(NOBODY);
    expect(report.port).toBe(5353);
    const warnings = report.lines.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/127\.50\.0\.15:53 \(permission denied\).*127\.50\.0\.15:5353.*sudo.*ip_unprivileged_port_start=0.*setcap cap_net_bind_service/);
    const r = await dig({ address: ADDRESS, port: report.port }, ['cluster.local', 'SOA']);
    expect(r.status).toBe('NOERROR');
  } finally {
    proc.stdin.end();
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        proc.kill('SIGKILL');
        r();
      }, 3000);
      proc.on('exit', () => {
        clearTimeout(t);
        r();
      });
    });
  }
}, 90_000);
