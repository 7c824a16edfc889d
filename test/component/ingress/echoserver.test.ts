/**
 * The conformance echoserver emulation, with curl: the JSON the suite parses, /health, the
 * `//` collapsing and Go ServeMux redirects, HTTP_PORT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalHeaderKey, startEchoserver, type EchoserverHandle } from '../../../dataplane/node/runtime/echoserver.js';
import { curl } from './harness.js';

let echo: EchoserverHandle;
const lines: string[] = [];
const base = () => `http://127.52.5.1:${echo.port}`;

beforeAll(async () => {
  echo = await startEchoserver({
    address: '127.52.5.1',
    env: { HTTP_PORT: '3000', POD_NAME: 'echo-abc', NAMESPACE: 'conformance', INGRESS_NAME: 'path-rules', SERVICE_NAME: 'foo-prefix' },
    stdout: (l) => lines.push(l),
  });
});
afterAll(() => echo.close());

describe('echoserver (ingress-controller-conformance images/echoserver)', () => {
  it('listens on HTTP_PORT', () => {
    expect(echo.port).toBe(3000);
    expect(lines[0]).toBe('Starting server, listening on port 3000 (http)');
  });

  it('echoes the request as Go would marshal it', async () => {
    const r = await curl(['-H', 'x-custom-header: a', '-H', 'X-CUSTOM-HEADER: b', '-H', 'user-agent: Go-http-client/1.1', `${base()}/foo/bar?x=<1>&y=2`]);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toEqual(['application/json']);
    expect(r.headers['x-content-type-options']).toEqual(['nosniff']);
    expect(r.headers.server).toBeUndefined();
    const body = JSON.parse(r.body);
    expect(Object.keys(body)).toEqual(['path', 'host', 'method', 'proto', 'headers', 'namespace', 'ingress', 'service', 'pod']);
    expect(body).toMatchObject({
      path: '/foo/bar?x=<1>&y=2',
      host: `127.52.5.1:${echo.port}`,
      method: 'GET',
      proto: 'HTTP/1.1',
      namespace: 'conformance',
      ingress: 'path-rules',
      service: 'foo-prefix',
      pod: 'echo-abc',
    });
    expect(body.headers).toEqual({ Accept: ['*/*'], 'User-Agent': ['Go-http-client/1.1'], 'X-Custom-Header': ['a', 'b'] });
    // Go's encoding/json escapes <, > and & and indents with one space.
    expect(r.body).toContain('"path": "/foo/bar?x=\\u003c1\\u003e\\u0026y=2"');
    expect(r.body.startsWith('{\n "path"')).toBe(true);
  });

  it('/health answers OK', async () => {
    const r = await curl([`${base()}/health`]);
    expect(r.status).toBe(200);
    expect(r.body).toBe('OK');
  });

  it('"//" is collapsed before routing, but the raw URI is echoed', async () => {
    const r = await curl(['--path-as-is', `${base()}//foo//bar`]);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).path).toBe('//foo//bar');
  });

  it('an unclean path is redirected by the ServeMux', async () => {
    const r = await curl(['--path-as-is', `${base()}/foo/../bar?q=1`]);
    expect(r.status).toBe(301);
    expect(r.headers.location).toEqual(['/bar?q=1']);
  });

  it('canonical header keys as net/textproto makes them', () => {
    expect(canonicalHeaderKey('x-forwarded-for')).toBe('X-Forwarded-For');
    expect(canonicalHeaderKey('USER-AGENT')).toBe('User-Agent');
    expect(canonicalHeaderKey('x_under')).toBe('X_under');
    expect(canonicalHeaderKey('bad header')).toBe('bad header');
  });
});
