/** Asking a DNS server from the benchmark: one A query at a time until the answer shows what we wait for. */
import type dgram from 'node:dgram';
import { RRClass, RRType } from '../../../dns/records.js';
import { decodeMessage } from '../../../dns/wire-decode.js';
import { encodeMessage, FLAG_RD } from '../../../dns/wire-encode.js';

export function query(name: string, id: number): Buffer {
  return encodeMessage({ id, flags: FLAG_RD, question: { name, type: RRType.A, class: RRClass.IN }, answer: [], authority: [], additional: [], budget: 512 }).bytes;
}

/** Sends a query until an answer's addresses satisfy `ok`; false if that never happened in time. */
export async function askUntil(sock: dgram.Socket, server: { address: string; port?: number }, name: string, ok: (answers: string[]) => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let id = 0;
  while (Date.now() < deadline) {
    id = (id + 1) & 0xffff;
    const want = id;
    const reply = await new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(() => done(undefined), 200);
      const onMsg = (m: Buffer) => {
        if (m.readUInt16BE(0) === want) done(m);
      };
      const done = (m: Buffer | undefined) => {
        clearTimeout(timer);
        sock.off('message', onMsg);
        resolve(m);
      };
      sock.on('message', onMsg);
      sock.send(query(name, want), server.port ?? 53, server.address);
    });
    const msg = reply && decodeMessage(reply);
    if (msg && ok(msg.answer.map((r) => (r.data.kind === 'address' ? [...r.data.bytes].join('.') : '')))) return true;
  }
  return false;
}
