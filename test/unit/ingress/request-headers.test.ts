/**
 * headersObject: the lowercase header object Node's IncomingMessage builds from raw headers,
 * checked against node:http's own parser on the same request.
 */
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { headersObject } from '../../../ingress/request-headers.js';

const RAW = [
  'Host', 'first.example',
  'HOST', 'second.example',
  'Cookie', 'a=1',
  'cookie', 'b=2',
  'Set-Cookie', 's=1',
  'set-cookie', 's=2',
  'Accept', 'text/html',
  'ACCEPT', 'application/json',
  'X-Forwarded-For', '10.0.0.1',
  'x-forwarded-for', '10.0.0.2',
  'Content-Type', 'text/plain',
  'content-type', 'application/json',
  'Authorization', 'Bearer one',
  'authorization', 'Bearer two',
  'User-Agent', 'ua-1',
  'User-Agent', 'ua-2',
  'Referer', 'http://r1/',
  'Referer', 'http://r2/',
  'X-Empty', '',
  'X-Empty', 'after-empty',
];

describe('headersObject', () => {
  it('joins repeated fields as Node does: cookie with "; ", others with ", ", first wins for single fields, set-cookie an array', () => {
    expect(headersObject(RAW)).toEqual({
      host: 'first.example',
      cookie: 'a=1; b=2',
      'set-cookie': ['s=1', 's=2'],
      accept: 'text/html, application/json',
      'x-forwarded-for': '10.0.0.1, 10.0.0.2',
      'content-type': 'text/plain',
      authorization: 'Bearer one',
      'user-agent': 'ua-1',
      referer: 'http://r1/',
      'x-empty': ', after-empty',
    });
  });

  it('a single set-cookie is still an array; an empty list is an empty object', () => {
    expect(headersObject(['Set-Cookie', 'x=1'])).toEqual({ 'set-cookie': ['x=1'] });
    expect(headersObject([])).toEqual({});
  });

  it('gives what node:http gives for the same request', async () => {
    const server = http.createServer((req, res) => {
      res.end(JSON.stringify({ headers: req.headers, raw: req.rawHeaders }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const text = await new Promise<string>((resolve, reject) => {
        const c = net.connect(port, '127.0.0.1');
        let out = '';
        c.on('data', (d: Buffer) => (out += d.toString('latin1')));
        c.on('end', () => resolve(out));
        c.on('error', reject);
        let head = 'GET / HTTP/1.1\r\nConnection: close\r\n';
        for (let i = 0; i < RAW.length; i += 2) head += `${RAW[i]}: ${RAW[i + 1]}\r\n`;
        c.write(head + '\r\n');
      });
      const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { headers: unknown; raw: string[] };
      expect(headersObject(body.raw)).toEqual(body.headers);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
