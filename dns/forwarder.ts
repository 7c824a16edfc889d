/**
 * Forwarding to one upstream resolver (kubeadm's `forward . /etc/resolv.conf`): the client's
 * query goes upstream as is, over the client's transport, under a fresh ID; the reply goes
 * back with the client's ID and the upstream's flags. A query not answered within the
 * timeout is 'timeout' (the engine answers SERVFAIL); more than maxConcurrent in flight is
 * 'busy' (REFUSED, like forward's max_concurrent). Nothing here can hang a client.
 *
 * Also resolves ExternalName targets outside the zone (lookup), returning the answer records.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from '../dataplane/base/log.js';
import { RRClass, type ResourceRecord } from './records.js';
import { decodeMessage } from './wire-decode.js';
import { encodeMessage, encodeOpt, FLAG_RD, FLAG_TC } from './wire-encode.js';
import { lowerAsciiInto, readName } from './wire-name.js';

export type ForwardResult = Buffer | 'timeout' | 'busy';

export interface Upstream {
  forward(query: Buffer, overTcp: boolean): Promise<ForwardResult>;
  /** Answer records for (name, type) from the upstream; [] on any failure. */
  lookup(name: string, type: number): Promise<ResourceRecord[]>;
  close(): Promise<void>;
}

export interface ForwarderOptions {
  host: string;
  port: number;
  timeoutMs?: number;
  maxConcurrent?: number;
  log: Logger;
}

interface Pending {
  question: Buffer;
  clientId: number;
  resolve: (r: ForwardResult) => void;
  timer: NodeJS.Timeout;
}

export const DEFAULT_FORWARD_TIMEOUT_MS = 2000;

export class Forwarder implements Upstream {
  private udp: dgram.Socket | undefined;
  /** Datagrams waiting for the UDP socket's connect to finish. */
  private udpQueue: Buffer[] | undefined = [];
  private readonly pending = new Map<number, Pending>();
  private readonly tcpSockets = new Set<net.Socket>();
  private inFlight = 0;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly maxConcurrent: number;

  constructor(private readonly opts: ForwarderOptions) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS;
    this.maxConcurrent = opts.maxConcurrent ?? 1000;
  }

  get target(): string {
    return net.isIPv6(this.opts.host) ? `[${this.opts.host}]:${this.opts.port}` : `${this.opts.host}:${this.opts.port}`;
  }

  async forward(query: Buffer, overTcp: boolean): Promise<ForwardResult> {
    if (this.closed) return 'timeout';
    if (this.inFlight >= this.maxConcurrent) return 'busy';
    this.inFlight++;
    try {
      return overTcp ? await this.exchangeTcp(query) : await this.exchangeUdp(query);
    } finally {
      this.inFlight--;
    }
  }

  async lookup(name: string, type: number): Promise<ResourceRecord[]> {
    const id = Math.floor(Math.random() * 65536);
    const q = encodeMessage({
      id,
      flags: FLAG_RD,
      question: { name, type, class: RRClass.IN },
      answer: [],
      authority: [],
      additional: [],
      budget: 65535,
    }).bytes;
    const query = Buffer.concat([q, encodeOpt(1232, 0, false, [])]);
    query.writeUInt16BE(1, 10);
    let reply = await this.forward(query, false);
    if (Buffer.isBuffer(reply) && reply.readUInt16BE(2) & FLAG_TC) reply = await this.forward(query, true);
    if (!Buffer.isBuffer(reply)) return [];
    return decodeMessage(reply)?.answer ?? [];
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.resolve('timeout');
    }
    for (const s of this.tcpSockets) s.destroy();
    this.tcpSockets.clear();
    const udp = this.udp;
    this.udp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
  }

  private send(datagram: Buffer): void {
    if (!this.udp) {
      const s = dgram.createSocket(net.isIPv6(this.opts.host) ? 'udp6' : 'udp4');
      s.on('message', (msg) => this.onReply(msg));
      // ICMP errors (nothing listening upstream) surface here; the query just times out.
      s.on('error', (err) => this.opts.log.debug('upstream socket error', { upstream: this.target, err }));
      this.udpQueue = [];
      // Connected: only datagrams from the upstream address reach us.
      s.connect(this.opts.port, this.opts.host, () => {
        const queued = this.udpQueue ?? [];
        this.udpQueue = undefined;
        for (const d of queued) this.sendNow(s, d);
      });
      this.udp = s;
    }
    if (this.udpQueue) this.udpQueue.push(datagram);
    else this.sendNow(this.udp, datagram);
  }

  private sendNow(s: dgram.Socket, datagram: Buffer): void {
    s.send(datagram, (err) => {
      if (err) this.opts.log.debug('upstream send failed', { upstream: this.target, err });
    });
  }

  private exchangeUdp(query: Buffer): Promise<ForwardResult> {
    const question = questionBytes(query);
    if (!question) return Promise.resolve('timeout');
    let id = Math.floor(Math.random() * 65536);
    for (let i = 0; this.pending.has(id) && i < 65536; i++) id = (id + 1) & 0xffff;
    if (this.pending.has(id)) return Promise.resolve('busy');
    const out = Buffer.from(query);
    out.writeUInt16BE(id, 0);
    return new Promise<ForwardResult>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve('timeout');
      }, this.timeoutMs);
      this.pending.set(id, { question, clientId: query.readUInt16BE(0), resolve, timer });
      this.send(out);
    });
  }

  private onReply(msg: Buffer): void {
    if (msg.length < 12) return;
    const p = this.pending.get(msg.readUInt16BE(0));
    if (!p || !sameQuestion(msg, p.question)) return;
    this.pending.delete(msg.readUInt16BE(0));
    clearTimeout(p.timer);
    msg.writeUInt16BE(p.clientId, 0);
    p.resolve(msg);
  }

  private exchangeTcp(query: Buffer): Promise<ForwardResult> {
    const question = questionBytes(query);
    if (!question) return Promise.resolve('timeout');
    return new Promise<ForwardResult>((resolve) => {
      const sock = net.connect({ host: this.opts.host, port: this.opts.port });
      this.tcpSockets.add(sock);
      let buffered = Buffer.alloc(0);
      let done = false;
      const finish = (r: ForwardResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.tcpSockets.delete(sock);
        sock.destroy();
        resolve(r);
      };
      const timer = setTimeout(() => finish('timeout'), this.timeoutMs);
      sock.on('error', () => finish('timeout'));
      sock.on('close', () => finish('timeout'));
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(query.length);
        sock.write(Buffer.concat([len, query]));
      });
      sock.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length < 2) return;
        const len = buffered.readUInt16BE(0);
        if (buffered.length < 2 + len) return;
        const reply = Buffer.from(buffered.subarray(2, 2 + len));
        finish(reply.length >= 12 && sameQuestion(reply, question) ? reply : 'timeout');
      });
    });
  }
}

/** The question section of a query (name lower-cased, type, class), for matching replies. */
function questionBytes(query: Buffer): Buffer | undefined {
  const name = readName(query, 12);
  if (!name || name.end + 4 > query.length) return undefined;
  const out = Buffer.alloc(name.end + 4 - 12);
  lowerAsciiInto(query, 12, name.end, out);
  query.copy(out, name.end - 12, name.end, name.end + 4);
  return out;
}

function sameQuestion(reply: Buffer, question: Buffer): boolean {
  if (reply.readUInt16BE(4) !== 1 || reply.length < 12 + question.length) return false;
  const nameLen = question.length - 4;
  for (let i = 0; i < question.length; i++) {
    let c = reply[12 + i]!;
    if (i < nameLen && c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== question[i]) return false;
  }
  return true;
}
