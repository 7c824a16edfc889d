/**
 * One HTTP/1.1 request on a connection of its own, written and read at the socket level so
 * that every way it can end is told apart: a complete 2xx answer, an empty reply (EOF before
 * a byte, curl's exit 52), a partial answer, a reset, a timeout.
 */
import net from 'node:net';

/** 'ok' (a complete 2xx answer), 'empty', 'partial', 'timeout', or the socket error's code. */
export type Outcome = 'ok' | 'empty' | 'partial' | 'timeout' | string;

export interface RawRequestOptions {
  path?: string;
  /** Shut down the write side right after the request (shutdown(SHUT_WR), `socket.end()`). */
  halfClose?: boolean;
  /** Bounds a request that hears nothing (a lost connection must fail a test, not hang it). */
  timeoutMs?: number;
}

export function rawRequest(host: string, port: number, opts: RawRequestOptions = {}): Promise<{ outcome: Outcome; read: string }> {
  const { path = '/hostname', halfClose = false, timeoutMs = 20_000 } = opts;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let outcome: Outcome | undefined;
    const s = net.connect({ host, port, allowHalfOpen: true });
    s.once('connect', () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      if (halfClose) s.end();
    });
    s.on('data', (d: Buffer) => chunks.push(d));
    s.once('end', () => {
      outcome = judge(Buffer.concat(chunks));
      s.destroy();
    });
    s.once('error', (err: NodeJS.ErrnoException) => (outcome ??= err.code ?? err.message));
    s.setTimeout(timeoutMs, () => {
      outcome ??= 'timeout';
      s.destroy();
    });
    s.once('close', () => resolve({ outcome: outcome ?? 'closed without end', read: Buffer.concat(chunks).toString('latin1') }));
  });
}

/** A complete answer: a 2xx status line, headers, and exactly Content-Length bytes of body. */
function judge(data: Buffer): Outcome {
  if (data.length === 0) return 'empty';
  const text = data.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0 || !/^HTTP\/1\.[01] 2\d\d /.test(text)) return 'partial';
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, headEnd))?.[1];
  if (length === undefined) return 'partial';
  return data.length - (headEnd + 4) === Number(length) ? 'ok' : 'partial';
}

/** Outcome → count, plus a few examples of what went wrong. */
export class OutcomeTally {
  readonly outcomes: Record<Outcome, number> = {};
  readonly samples: string[] = [];
  total = 0;

  add(o: { outcome: Outcome; read: string }): void {
    this.total++;
    this.outcomes[o.outcome] = (this.outcomes[o.outcome] ?? 0) + 1;
    if (o.outcome !== 'ok' && this.samples.length < 5) this.samples.push(`${o.outcome}: ${JSON.stringify(o.read.slice(0, 200))}`);
  }
}
