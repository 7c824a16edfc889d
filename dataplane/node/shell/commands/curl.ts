/**
 * curl inside a pod (curl 8's messages and exit codes): -s -S -f -o FILE -O -I -i -v -X -H -d
 * (--data, --data-raw, --data-binary, @file) -m/--max-time --connect-timeout -L -w FORMAT -k
 * -A -u, several URLs. The connection comes from the pod's IP (http-from-pod.ts). Without -s
 * the final line of curl's progress meter goes to stderr, as curl prints it when its output
 * is not a terminal.
 */
import { parseArgs } from 'node:util';
import type { Command } from 'just-bash';
import type { JustBash } from '../just-bash-loader.js';
import type { PodNetwork } from '../pod-resolver.js';
import type { ShellSession } from '../shell-session.js';
import { defaultPort, HttpError, httpFromPod, type HttpFailure, type HttpResult } from './http-from-pod.js';
import { absolutePath, resolverFiles } from './net-files.js';

export const CURL_VERSION = '8.11.1';

export interface CurlOptions {
  urls: string[];
  silent: boolean;
  showError: boolean;
  fail: boolean;
  output?: string;
  remoteName: boolean;
  head: boolean;
  include: boolean;
  verbose: boolean;
  method?: string;
  headers: string[];
  data: string[];
  maxTimeMs?: number;
  connectTimeoutMs?: number;
  location: boolean;
  writeOut?: string;
  insecure: boolean;
  userAgent: string;
  user?: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string; exitCode: number };

export function parseCurlArgs(args: string[]): Parsed<CurlOptions> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        silent: { type: 'boolean', short: 's' },
        'show-error': { type: 'boolean', short: 'S' },
        fail: { type: 'boolean', short: 'f' },
        output: { type: 'string', short: 'o' },
        'remote-name': { type: 'boolean', short: 'O' },
        head: { type: 'boolean', short: 'I' },
        include: { type: 'boolean', short: 'i' },
        verbose: { type: 'boolean', short: 'v' },
        request: { type: 'string', short: 'X' },
        header: { type: 'string', short: 'H', multiple: true },
        data: { type: 'string', short: 'd', multiple: true },
        'data-raw': { type: 'string', multiple: true },
        'data-binary': { type: 'string', multiple: true },
        'max-time': { type: 'string', short: 'm' },
        'connect-timeout': { type: 'string' },
        location: { type: 'boolean', short: 'L' },
        'write-out': { type: 'string', short: 'w' },
        insecure: { type: 'boolean', short: 'k' },
        'user-agent': { type: 'string', short: 'A' },
        user: { type: 'string', short: 'u' },
        ipv4: { type: 'boolean', short: '4' },
        'http1.1': { type: 'boolean' },
        'no-buffer': { type: 'boolean', short: 'N' },
        globoff: { type: 'boolean', short: 'g' },
        'disable': { type: 'boolean', short: 'q' },
        url: { type: 'string', multiple: true },
      },
    }));
  } catch (err) {
    const m = /'(-[^']*)'/.exec((err as Error).message);
    return { ok: false, message: `curl: option ${m?.[1] ?? ''}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n`, exitCode: 2 };
  }
  const seconds = (v: string | undefined, flag: string): number | undefined | Error => {
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) && n >= 0 ? n * 1000 : new Error(`curl: option ${flag}: expected a proper numerical parameter\n`);
  };
  const maxTime = seconds(values['max-time'], '--max-time');
  const connectTime = seconds(values['connect-timeout'], '--connect-timeout');
  for (const t of [maxTime, connectTime]) if (t instanceof Error) return { ok: false, message: t.message + "curl: try 'curl --help' or 'curl --manual' for more information\n", exitCode: 2 };
  const urls = [...positionals, ...(values.url ?? [])];
  if (urls.length === 0) return { ok: false, message: "curl: no URL specified\ncurl: try 'curl --help' or 'curl --manual' for more information\n", exitCode: 2 };
  return {
    ok: true,
    value: {
      urls,
      silent: !!values.silent,
      showError: !!values['show-error'],
      fail: !!values.fail,
      output: values.output,
      remoteName: !!values['remote-name'],
      head: !!values.head,
      include: !!values.include,
      verbose: !!values.verbose,
      method: values.request,
      headers: values.header ?? [],
      data: [...(values.data ?? []), ...(values['data-raw'] ?? []), ...(values['data-binary'] ?? [])],
      maxTimeMs: maxTime as number | undefined,
      connectTimeoutMs: connectTime as number | undefined,
      location: !!values.location,
      writeOut: values['write-out'],
      insecure: !!values.insecure,
      userAgent: values['user-agent'] ?? `curl/${CURL_VERSION}`,
      user: values.user,
    },
  };
}

/** curl's URL guessing: no scheme means http. */
export function curlUrl(text: string): URL | undefined {
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    return undefined;
  }
}

/** -w: %{http_code} %{remote_ip} … and \n \t \r escapes. */
export function formatWriteOut(format: string, v: Record<string, string | number>): string {
  return format
    .replace(/%\{([a-z_]+)\}/g, (all, name: string) => (name in v ? String(v[name]) : all))
    .replace(/\\n/g, '\n')
    .replace(/\\t/g, '\t')
    .replace(/\\r/g, '\r');
}

export function curlCommand(lib: JustBash, session: ShellSession, network: PodNetwork): Command {
  return lib.defineCommand('curl', async (args, ctx) => {
    const parsed = parseCurlArgs(args);
    if (!parsed.ok) return { stdout: '', stderr: parsed.message, exitCode: parsed.exitCode };
    const o = parsed.value;
    const files = await resolverFiles(ctx.fs);
    let stdout = '';
    let stderr = '';
    let exitCode = 0;
    const showErrors = !o.silent || o.showError;
    const toTerminal = session.isTerminal('curl');
    for (const text of o.urls) {
      let url = curlUrl(text);
      if (!url || !/^https?:$/.test(url.protocol)) {
        if (showErrors) stderr += url ? `curl: (1) Protocol "${url.protocol.slice(0, -1)}" not supported\n` : `curl: (3) URL rejected: Malformed input to a URL function\n`;
        exitCode = url ? 1 : 3;
        continue;
      }
      const started = performance.now();
      let redirects = 0;
      let method = o.method ?? (o.head ? 'HEAD' : o.data.length ? 'POST' : 'GET');
      let body: Buffer | undefined = o.data.length ? Buffer.from((await Promise.all(o.data.map((d) => dataArg(d, ctx)))).join('&')) : undefined;
      let result: HttpResult | undefined;
      let failure: HttpFailure | undefined;
      for (;;) {
        const headers = requestHeaders(url, o, body);
        if (o.verbose) stderr += verboseRequest(url, method, headers);
        try {
          result = await httpFromPod(network, files, {
            url,
            method,
            headers,
            body,
            timeoutMs: o.maxTimeMs,
            connectTimeoutMs: o.connectTimeoutMs,
            insecure: o.insecure,
            signal: ctx.signal,
          });
        } catch (err) {
          if (!(err instanceof HttpError)) throw err;
          failure = err.failure;
          break;
        }
        if (o.verbose) stderr += verboseResponse(result);
        const location = result.headers.find(([k]) => k.toLowerCase() === 'location')?.[1];
        if (!o.location || !location || result.status < 300 || result.status > 399 || redirects >= 50) break;
        redirects++;
        url = new URL(location, url);
        if ([301, 302, 303].includes(result.status) && method === 'POST') {
          method = 'GET';
          body = undefined;
        }
      }
      const elapsed = Math.round(performance.now() - started);
      if (failure) {
        const [code, message] = failureMessage(failure, url, elapsed);
        exitCode = code;
        if (showErrors) stderr += `curl: (${code}) ${message}\n`;
        continue;
      }
      const r = result!;
      if (o.fail && r.status >= 400) {
        exitCode = 22;
        if (showErrors) stderr += `curl: (22) The requested URL returned error: ${r.status}\n`;
        continue;
      }
      const headText = `HTTP/${r.httpVersion} ${r.status}${r.statusText ? ' ' + r.statusText : ''}\r\n${r.headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
      const out = (o.include || o.head ? headText : '') + (o.head ? '' : r.body.toString('latin1'));
      const target = o.output ?? (o.remoteName ? url.pathname.split('/').pop() || '' : undefined);
      if (target === '') {
        exitCode = 23;
        if (showErrors) stderr += 'curl: (23) Failed writing received data to disk/application\n';
        continue;
      }
      if (target !== undefined && target !== '-') await ctx.fs.writeFile(absolutePath(ctx.cwd, target), new Uint8Array(Buffer.from(out, 'latin1')));
      else stdout += out;
      if (!o.silent && !o.verbose && ((target !== undefined && target !== '-') || !toTerminal)) stderr += progressMeter(r.body.length, elapsed);
      if (o.verbose) stderr += `* Connection #0 to host ${url.hostname} left intact\n`;
      if (o.writeOut !== undefined) {
        stdout += formatWriteOut(o.writeOut, {
          http_code: String(r.status).padStart(3, '0'),
          response_code: r.status,
          remote_ip: r.remote.ip,
          remote_port: r.remote.port,
          local_ip: r.local.ip,
          local_port: r.local.port,
          size_download: r.body.length,
          time_total: (elapsed / 1000).toFixed(6),
          url_effective: url.href,
          content_type: r.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '',
          num_redirects: redirects,
          http_version: r.httpVersion === '1.0' ? '1' : r.httpVersion,
        });
      }
    }
    return { stdout, stderr, exitCode, stdoutKind: 'bytes' as const };
  });
}

function requestHeaders(url: URL, o: CurlOptions, body: Buffer | undefined): Array<[string, string]> {
  const headers: Array<[string, string]> = [['Host', url.port ? `${url.hostname}:${url.port}` : url.hostname]];
  if (o.user) headers.push(['Authorization', `Basic ${Buffer.from(o.user).toString('base64')}`]);
  headers.push(['User-Agent', o.userAgent], ['Accept', '*/*']);
  if (body) headers.push(['Content-Length', String(body.length)], ['Content-Type', 'application/x-www-form-urlencoded']);
  for (const h of o.headers) {
    const i = h.indexOf(':');
    if (i <= 0) continue;
    const name = h.slice(0, i).trim();
    const value = h.slice(i + 1).trim();
    const at = headers.findIndex(([k]) => k.toLowerCase() === name.toLowerCase());
    // `-H 'Name:'` removes a header curl would send.
    if (value === '' && at >= 0) headers.splice(at, 1);
    else if (at >= 0) headers[at] = [name, value];
    else if (value !== '') headers.push([name, value]);
  }
  return headers;
}

async function dataArg(d: string, ctx: { fs: { readFile(p: string): Promise<string> }; cwd: string }): Promise<string> {
  if (!d.startsWith('@')) return d;
  return (await ctx.fs.readFile(absolutePath(ctx.cwd, d.slice(1)))).replace(/[\r\n]/g, '');
}

function verboseRequest(url: URL, method: string, headers: Array<[string, string]>): string {
  return `* Host ${url.hostname}:${defaultPort(url)} was resolved.\n*   Trying ${url.hostname}:${defaultPort(url)}...\n* Connected to ${url.hostname} port ${defaultPort(url)}\n> ${method} ${url.pathname}${url.search} HTTP/1.1\r\n${headers.map(([k, v]) => `> ${k}: ${v}\r\n`).join('')}>\r\n`;
}

function verboseResponse(r: HttpResult): string {
  return `< HTTP/${r.httpVersion} ${r.status} ${r.statusText}\r\n${r.headers.map(([k, v]) => `< ${k}: ${v}\r\n`).join('')}<\r\n`;
}

function failureMessage(f: HttpFailure, url: URL, elapsed: number): [number, string] {
  switch (f.kind) {
    case 'resolve': return [6, `Could not resolve host: ${f.host}`];
    case 'connect':
      if (f.code === 'ETIMEDOUT') return [28, `Failed to connect to ${f.host} port ${f.port} after ${elapsed} ms: Timeout was reached`];
      return [7, `Failed to connect to ${f.host} port ${f.port} after ${elapsed} ms: Couldn't connect to server`];
    case 'timeout': return [28, f.connected ? `Operation timed out after ${elapsed} milliseconds with ${f.received} bytes received` : `Connection timed out after ${elapsed} milliseconds`];
    case 'empty': return [52, 'Empty reply from server'];
    case 'reset': return [56, `Recv failure: ${f.message}`];
    case 'tls': return [60, `SSL certificate problem: ${f.message.replace(/^.*?: /, '')}`];
    case 'aborted': return [130, `Operation aborted (${url.hostname})`];
  }
}

/** The last line of curl's progress meter (what remains on the screen when a transfer ends). */
export function progressMeter(bytes: number, elapsedMs: number): string {
  const size = (n: number) => (n < 100_000 ? String(n) : n < 1024 * 1024 * 10 ? `${Math.round(n / 1024)}k` : `${Math.round(n / 1024 / 1024)}M`);
  const speed = size(elapsedMs > 0 ? Math.round((bytes * 1000) / elapsedMs) : bytes);
  const head = '  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n                                 Dload  Upload   Total   Spent    Left  Speed\n';
  const t = '--:--:--';
  return head + `100 ${size(bytes).padStart(5)}  100 ${size(bytes).padStart(5)}    0     0 ${speed.padStart(6)}      0 ${t} ${t} ${t} ${speed.padStart(6)}\n`;
}
