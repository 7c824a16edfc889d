/**
 * A DNS query from the pod: UDP (retried after a timeout, as resolv.conf's `timeout` and
 * `attempts` say; 5 s and 2 by default) or TCP, over a socket from dialFromPod, so the query
 * leaves from the pod's IP (and NetworkPolicy egress applies to it). A truncated UDP answer is
 * asked again over TCP, as resolvers do. Messages are encoded and decoded with dns-packet.
 */
import dnsPacket from 'dns-packet';
import type { DecodedPacket, RecordType } from 'dns-packet';
import { dialFromPod, DialError, type PodEndpoint } from './dial-from-pod.js';

export interface DnsQuestion {
  name: string;
  type: RecordType;
}

export interface DnsServer {
  ip: string;
  port: number;
}

export interface DnsQueryOptions {
  tcp?: boolean;
  /** Per try, ms (resolv.conf timeout:5). */
  timeoutMs?: number;
  /** UDP tries (resolv.conf attempts:2). */
  tries?: number;
  recurse?: boolean;
  signal?: AbortSignal;
}

export interface DnsReply {
  message: DecodedPacket;
  /** NOERROR, NXDOMAIN, SERVFAIL… */
  rcode: string;
  server: DnsServer;
  protocol: 'UDP' | 'TCP';
  elapsedMs: number;
  size: number;
}

export class DnsTimeout extends Error {
  constructor(readonly server: DnsServer) {
    super(`connection timed out; no servers could be reached`);
  }
}

export async function queryDns(src: PodEndpoint, server: DnsServer, question: DnsQuestion, opts: DnsQueryOptions = {}): Promise<DnsReply> {
  const query = dnsPacket.encode({
    type: 'query',
    id: Math.floor(Math.random() * 65536),
    flags: opts.recurse === false ? 0 : dnsPacket.RECURSION_DESIRED,
    questions: [{ type: question.type, name: question.name, class: 'IN' }],
  });
  const started = performance.now();
  if (!opts.tcp) {
    const udp = await queryUdp(src, server, query, opts);
    const message = dnsPacket.decode(udp);
    if (!message.flag_tc) return reply(message, udp.length, server, 'UDP', started);
  }
  const tcp = await queryTcp(src, server, query, opts);
  return reply(dnsPacket.decode(tcp), tcp.length, server, 'TCP', started);
}

function reply(message: DecodedPacket, size: number, server: DnsServer, protocol: 'UDP' | 'TCP', started: number): DnsReply {
  const rcode = (message as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR';
  return { message, rcode, server, protocol, elapsedMs: performance.now() - started, size };
}

async function queryUdp(src: PodEndpoint, server: DnsServer, query: Buffer, opts: DnsQueryOptions): Promise<Buffer> {
  const sock = await dialFromPod(src, server.ip, server.port, 'UDP');
  const timeoutMs = opts.timeoutMs ?? 5000;
  const tries = Math.max(1, opts.tries ?? 2);
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      let attempt = 0;
      let timer: NodeJS.Timeout | undefined;
      const send = () => {
        if (attempt++ >= tries) return reject(new DnsTimeout(server));
        sock.send(query);
        timer = setTimeout(send, timeoutMs);
      };
      const onAbort = () => {
        clearTimeout(timer);
        reject(new DnsTimeout(server));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      sock.on('message', (msg: Buffer) => {
        // Only the answer to this query (same ID).
        if (msg.length < 2 || msg.readUInt16BE(0) !== query.readUInt16BE(0)) return;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        resolve(msg);
      });
      // A refused port (ICMP unreachable) fails the try at once.
      sock.on('error', () => {
        clearTimeout(timer);
        send();
      });
      send();
    });
  } finally {
    sock.close();
  }
}

async function queryTcp(src: PodEndpoint, server: DnsServer, query: Buffer, opts: DnsQueryOptions): Promise<Buffer> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  let sock;
  try {
    sock = await dialFromPod(src, server.ip, server.port, 'TCP', { timeoutMs, signal: opts.signal });
  } catch (err) {
    if (err instanceof DialError) throw new DnsTimeout(server);
    throw err;
  }
  const s = sock;
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      let buf = Buffer.alloc(0);
      const timer = setTimeout(() => reject(new DnsTimeout(server)), timeoutMs);
      s.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          clearTimeout(timer);
          resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        }
      });
      s.on('error', () => {
        clearTimeout(timer);
        reject(new DnsTimeout(server));
      });
      s.on('close', () => {
        clearTimeout(timer);
        reject(new DnsTimeout(server));
      });
      s.write(Buffer.concat([len, query]));
    });
  } finally {
    s.destroy();
  }
}
