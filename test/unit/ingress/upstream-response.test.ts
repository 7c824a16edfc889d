/** Reading a pod's response off the wire: framing, reuse, errors, and any split of the bytes. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ResponseReader, UpstreamProtocolError, type ResponseHead } from '../../../ingress/upstream-response.js';

interface Read {
  head?: ResponseHead;
  body: string;
  lastSeen: boolean;
  ended: boolean;
  reusable: boolean;
  error?: string;
}

/**
 * Feeds `wire` in the given pieces (then EOF when `close`), collecting what the reader reports.
 * Each piece goes through one reused buffer, scribbled over after each feed, as a socket's
 * reused read buffer is (upstream-pools.ts): what the reader keeps across reads must be a copy.
 */
function read(wire: string, opts: { head?: boolean; splits?: number[]; close?: boolean } = {}): Read {
  const out: Read = { body: '', lastSeen: false, ended: false, reusable: false };
  const r = new ResponseReader(
    {
      onHead: (h) => (out.head = h),
      onBody: (c, last) => {
        out.body += c.toString('latin1');
        if (last) out.lastSeen = true;
      },
      onEnd: () => (out.ended = true),
    },
    opts.head ?? false,
  );
  const bytes = Buffer.from(wire, 'latin1');
  const cuts = [...new Set(opts.splits ?? [])].filter((n) => n > 0 && n < bytes.length).sort((a, b) => a - b);
  try {
    let at = 0;
    const reused = Buffer.alloc(bytes.length);
    for (const cut of [...cuts, bytes.length]) {
      bytes.copy(reused, 0, at, cut);
      r.feed(reused.subarray(0, cut - at));
      reused.fill('#');
      at = cut;
    }
    if (opts.close) r.eof();
  } catch (err) {
    if (!(err instanceof UpstreamProtocolError)) throw err;
    out.error = err.message;
  }
  out.reusable = r.reusable;
  return out;
}

describe('upstream response framing', () => {
  const cases: Array<[string, string, Parameters<typeof read>[1], Partial<Read> & { status?: number }]> = [
    ['Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello', {}, { status: 200, body: 'hello', ended: true, lastSeen: true, reusable: true }],
    ['Content-Length: 0', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', {}, { body: '', ended: true, lastSeen: true, reusable: true }],
    ['chunked, with extensions and trailers', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n', {}, { body: 'hello world', ended: true, reusable: true }],
    ['close-delimited', 'HTTP/1.1 200 OK\r\n\r\nuntil the end', { close: true }, { body: 'until the end', ended: true, reusable: false }],
    ['Connection: close', 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok', {}, { body: 'ok', ended: true, reusable: false }],
    ['HTTP/1.0 without keep-alive', 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok', {}, { ended: true, reusable: false }],
    ['HTTP/1.0 with keep-alive', 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok', {}, { ended: true, reusable: true }],
    ['HEAD: the Content-Length describes no body here', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', { head: true }, { body: '', ended: true, reusable: true }],
    ['204 has no body', 'HTTP/1.1 204 No Content\r\n\r\n', {}, { status: 204, ended: true, reusable: true }],
    ['304 has no body', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n', {}, { status: 304, ended: true, reusable: true }],
    ['interim 100 and 103 are skipped', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx', {}, { status: 201, body: 'x', ended: true }],
    ['Transfer-Encoding with Content-Length: relayed, never reused', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', {}, { body: 'ok', ended: true, reusable: false }],
    ['bytes after the response: not reused', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA', {}, { body: 'ok', ended: true, reusable: false }],
    ['empty reason phrase', 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n', {}, { status: 200, ended: true }],
    ['not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n', {}, { error: 'upstream sent no valid HTTP/1.0 header' }],
    ['101 on a plain request', 'HTTP/1.1 101 Switching Protocols\r\n\r\n', {}, { error: 'upstream switched protocols on a plain request' }],
    ['header without a colon', 'HTTP/1.1 200 OK\r\nbroken\r\n\r\n', {}, { error: 'upstream sent invalid header' }],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n', {}, { error: 'upstream sent invalid header' }],
    ['conflicting Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', {}, { error: 'upstream sent invalid "Content-Length" header' }],
    ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', {}, { error: 'invalid chunked body' }],
    ['closed mid-body', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', { close: true }, { body: 'abc', ended: false, error: 'upstream prematurely closed connection' }],
    ['closed before any head', '', { close: true }, { error: 'upstream prematurely closed connection' }],
  ];

  it.each(cases)('%s', (_name, wire, opts, want) => {
    const got = read(wire, opts);
    const { status, ...rest } = want;
    if (status !== undefined) expect(got.head?.status).toBe(status);
    expect(got).toMatchObject(rest);
  });

  it('keeps header names, values and order as the pod sent them', () => {
    const got = read('HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Odd:  spaced \r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n');
    expect(got.head?.rawHeaders).toEqual(['Set-Cookie', 'a=1', 'X-Odd', 'spaced', 'Set-Cookie', 'b=2', 'Content-Length', '0']);
  });

  it('a head larger than 64 KiB is refused', () => {
    expect(read(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70_000)}`).error).toBe('upstream sent too big header');
  });

  it('any split of the bytes reads the same (property)', () => {
    const wires = cases.filter(([, , o, w]) => !w.error && !o?.head).map(([, wire, o]) => [wire, o?.close ?? false] as const);
    fc.assert(
      fc.property(fc.constantFrom(...wires), fc.array(fc.nat(400), { maxLength: 8 }), ([wire, close], splits) => {
        const whole = read(wire, { close });
        const split = read(wire, { close, splits });
        expect(split).toEqual(whole);
      }),
    );
  });

  it('no input crashes it with anything but its own error (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.boolean(), (tail, close) => {
        // read() rethrows anything that is not an UpstreamProtocolError.
        read(`HTTP/1.1 200 OK\r\n${tail}`, { close });
      }),
    );
  });
});
