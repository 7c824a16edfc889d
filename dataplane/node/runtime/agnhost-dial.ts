/**
 * Outgoing requests of agnhost's `/dial`, made from the pod IP (DESIGN §1: a pod's connections
 * carry its own address) through base/netpol's dialFromPod, so NetworkPolicy applies to them
 * (a denied one times out as a dropped SYN does), with Go-like error texts since e2e tests match on them.
 */
import { request } from 'node:http';
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { dialFromPod } from '../../base/netpol/dial-from-pod.js';
import type { PodNetpol } from './pod-ingress.js';

const DIAL_TIMEOUT_MS = 5000;

export async function dialHttp(localIP: string, host: string, port: number, path: string, netpol?: PodNetpol): Promise<string> {
  const ip = await resolve(host);
  const url = `http://${ip}:${port}/${path}`;
  return new Promise((resolvePromise, reject) => {
    let settled = false;
    const fail = (msg: string) => {
      if (settled) return;
      settled = true;
      reject(new Error(`Get ${JSON.stringify(url)}: ${msg}`));
    };
    const createConnection = () => dialFromPod(netpol?.enforcer, localIP, ip, port, 'TCP', { proxied: netpol?.proxied });
    const req = request({ host: ip, port, path: `/${path}`, method: 'GET', createConnection }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        resolvePromise(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', (err: NodeJS.ErrnoException) => fail(goNetError(err, ip, port)));
    });
    const timer = setTimeout(() => {
      fail('context deadline exceeded (Client.Timeout exceeded while awaiting headers)');
      req.destroy();
    }, DIAL_TIMEOUT_MS);
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(goNetError(err, ip, port));
    });
    req.end();
  });
}

export async function dialUdp(localIP: string, host: string, port: number, payload: string, netpol?: PodNetpol): Promise<string> {
  const ip = await resolve(host);
  const sock = dialFromPod(netpol?.enforcer, localIP, ip, port, 'UDP', { proxied: netpol?.proxied });
  return new Promise((resolvePromise, reject) => {
    let local = `${localIP}:0`;
    const done = (err: string | undefined, value?: string) => {
      clearTimeout(timer);
      sock.removeAllListeners();
      sock.on('error', () => {});
      sock.close();
      if (err) reject(new Error(err));
      else resolvePromise(value!);
    };
    const readErr = (why: string) => `reading from udp connection failed. err:'read udp ${local}->${ip}:${port}: ${why}'`;
    const timer = setTimeout(() => done(readErr('i/o timeout')), DIAL_TIMEOUT_MS);
    sock.on('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? readErr('recvfrom: connection refused') : `udp dial failed. err:${err.message}`),
    );
    sock.on('message', (msg) => done(msg.length === 0 ? readErr('<nil>') : undefined, msg.toString('utf8')));
    sock.once('connect', () => {
      local = `${localIP}:${sock.address().port}`;
      sock.send(payload);
    });
  });
}

/** json.Marshal output: Go escapes <, > and & (and U+2028/2029) in strings. */
export function goJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

async function resolve(host: string): Promise<string> {
  if (isIP(host)) return host;
  try {
    return (await lookup(host, { family: 4 })).address;
  } catch {
    throw new Error(`dial tcp: lookup ${host}: no such host`);
  }
}

function goNetError(err: NodeJS.ErrnoException, ip: string, port: number): string {
  switch (err.code) {
    case 'ECONNREFUSED': return `dial tcp ${ip}:${port}: connect: connection refused`;
    case 'ECONNRESET': return `read tcp ${ip}:${port}: read: connection reset by peer`;
    case 'EHOSTUNREACH': return `dial tcp ${ip}:${port}: connect: no route to host`;
    case 'EADDRNOTAVAIL': return `dial tcp ${ip}:${port}: bind: cannot assign requested address`;
    default: return err.message === 'socket hang up' ? 'EOF' : err.message;
  }
}
