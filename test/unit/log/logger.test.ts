import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../dataplane/base/log.js';

// The default sink batches stderr writes per loop turn; a child process shows what reaches stderr.
const built = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/dataplane/base/log.js')).href;

function child(script: string): { lines: Promise<string[]>; firstLine: Promise<string>; kill(): void } {
  const c = spawn(process.execPath, ['--input-type=module', '-e', `import { createLogger } from ${JSON.stringify(built)};\n${script}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  let resolveFirst: (l: string) => void = () => {};
  const firstLine = new Promise<string>((r) => (resolveFirst = r));
  c.stderr.on('data', (d: Buffer) => {
    text += d.toString();
    if (text.includes('\n')) resolveFirst(text.slice(0, text.indexOf('\n')));
  });
  const lines = new Promise<string[]>((resolve) => c.on('close', () => resolve(text.split('\n').filter(Boolean))));
  return { lines, firstLine, kill: () => c.kill('SIGKILL') };
}

describe('structured logger', () => {
  it('writes one JSON object per line with time, level, component, message and fields; honours the level', () => {
    const out: string[] = [];
    const log = createLogger('proxy', { level: 'info', write: (l) => out.push(l) });
    log.debug('hidden');
    log.child('sync').warn('slow', { ms: 12, error: new Error('boom') });
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0]!)).toMatchObject({ level: 'warn', component: 'proxy/sync', msg: 'slow', ms: 12, error: { message: 'boom' } });
  });

  it('writes a line without fields exactly as JSON.stringify writes the object (quotes, control bytes, unicode)', () => {
    const out: string[] = [];
    const log = createLogger('ingress/"access"', { write: (l) => out.push(l) });
    const msg = '1.2.3.4 - - "GET /\\x22 HTTP/1.1" \u2028 \u0000 é 🦊';
    log.info(msg);
    log.warn(msg, {});
    const [bare, viaObject] = out.map((l) => JSON.parse(l) as Record<string, string>);
    // The two lines may be a millisecond apart: everything but the time is the same.
    expect({ ...bare, time: '' }).toEqual({ ...viaObject, level: 'info', time: '' });
    expect(out[0]).toBe(JSON.stringify({ time: bare!.time, level: 'info', component: 'ingress/"access"', msg }));
    expect(Date.parse(bare!.time!)).not.toBeNaN();
  });

  it('loses no line, in order, when the process exits in the same turn it logged', async () => {
    const { lines } = child(`const log = createLogger('t'); for (let i = 0; i < 5; i++) log.info('line ' + i); process.exit(3);`);
    expect((await lines).map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
  });

  it('writes lines out while the process keeps running (no wait for exit)', async () => {
    const c = child(`createLogger('t').info('early'); setInterval(() => {}, 1000);`);
    try {
      expect(JSON.parse(await c.firstLine)).toMatchObject({ msg: 'early', component: 't' });
    } finally {
      c.kill();
    }
  });
});
