/**
 * busybox wget inside a pod: -q, -O FILE (`-` = stdout), -T SEC, -S, --spider, -U AGENT,
 * --header, --post-data; follows redirects; refuses to overwrite a file it names itself; its
 * messages and exit code 1 on failure (`wget: bad address 'web'`, `wget: can't connect to
 * remote host (…): Connection refused`, `wget: server returned error: HTTP/1.1 404 Not Found`,
 * `wget: download timed out`). As busybox's, https does not check the server's certificate.
 */
import { parseArgs } from 'node:util';
import type { Command } from 'just-bash';
import type { JustBash } from '../just-bash-loader.js';
import type { PodNetwork } from '../pod-resolver.js';
import { defaultPort, HttpError, httpFromPod, type HttpFailure, type HttpResult } from './http-from-pod.js';
import { absolutePath, resolverFiles } from './net-files.js';
import type { Parsed } from './curl.js';

export interface WgetOptions {
  url: string;
  quiet: boolean;
  output?: string;
  timeoutMs?: number;
  serverResponse: boolean;
  spider: boolean;
  userAgent: string;
  headers: string[];
  postData?: string;
}

export function parseWgetArgs(args: string[]): Parsed<WgetOptions> {
  const usage = 'BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n\t[--post-data STR | --post-file FILE] [-Y on/off]\n\t[-P DIR] [-U AGENT] [-T SEC] URL...\n';
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        quiet: { type: 'boolean', short: 'q' },
        'output-document': { type: 'string', short: 'O' },
        timeout: { type: 'string', short: 'T' },
        'server-response': { type: 'boolean', short: 'S' },
        spider: { type: 'boolean' },
        'user-agent': { type: 'string', short: 'U' },
        header: { type: 'string', multiple: true },
        'post-data': { type: 'string' },
        continue: { type: 'boolean', short: 'c' },
        'no-check-certificate': { type: 'boolean' },
      },
    }));
  } catch (err) {
    const m = /'(-+[^']*)'/.exec((err as Error).message);
    return { ok: false, message: `wget: unrecognized option '${m?.[1] ?? ''}'\n${usage}`, exitCode: 1 };
  }
  if (positionals.length === 0) return { ok: false, message: usage, exitCode: 1 };
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    if (!/^\d+$/.test(values.timeout)) return { ok: false, message: `wget: invalid number '${values.timeout}'\n`, exitCode: 1 };
    timeoutMs = Number(values.timeout) * 1000;
  }
  return {
    ok: true,
    value: {
      url: positionals[0]!,
      quiet: !!values.quiet,
      output: values['output-document'],
      timeoutMs,
      serverResponse: !!values['server-response'],
      spider: !!values.spider,
      userAgent: values['user-agent'] ?? 'Wget',
      headers: values.header ?? [],
      postData: values['post-data'],
    },
  };
}

export function wgetCommand(lib: JustBash, network: PodNetwork): Command {
  return lib.defineCommand('wget', async (args, ctx) => {
    const parsed = parseWgetArgs(args);
    if (!parsed.ok) return { stdout: '', stderr: parsed.message, exitCode: parsed.exitCode };
    const o = parsed.value;
    let stderr = '';
    const fail = (msg: string) => ({ stdout: '', stderr: stderr + `wget: ${msg}\n`, exitCode: 1 });
    let url: URL;
    try {
      url = new URL(/^[a-z]+:\/\//i.test(o.url) ? o.url : `http://${o.url}`);
    } catch {
      return fail(`bad address '${o.url}'`);
    }
    if (!/^https?:$/.test(url.protocol)) return fail(`not an http or ftp url: ${o.url}`);
    const toStdout = o.output === '-';
    const file = o.output ?? (decodeURIComponent(url.pathname.split('/').pop() ?? '') || 'index.html');
    if (!toStdout && !o.spider && o.output === undefined && (await ctx.fs.exists(absolutePath(ctx.cwd, file)))) return fail(`can't open '${file}': File exists`);
    const files = await resolverFiles(ctx.fs);
    let method = o.postData !== undefined ? 'POST' : o.spider ? 'HEAD' : 'GET';
    let body = o.postData !== undefined ? Buffer.from(o.postData) : undefined;
    let result: HttpResult | undefined;
    for (let redirects = 0; ; redirects++) {
      const headers: Array<[string, string]> = [['Host', url.port ? `${url.hostname}:${url.port}` : url.hostname], ['User-Agent', o.userAgent]];
      if (body) headers.push(['Content-Type', 'application/x-www-form-urlencoded'], ['Content-Length', String(body.length)]);
      headers.push(['Connection', 'close']);
      for (const h of o.headers) {
        const i = h.indexOf(':');
        if (i > 0) headers.push([h.slice(0, i).trim(), h.slice(i + 1).trim()]);
      }
      if (!o.quiet && url.protocol === 'https:' && redirects === 0) stderr += 'wget: note: TLS certificate validation not implemented\n';
      try {
        result = await httpFromPod(network, files, {
          url,
          method,
          headers,
          body,
          timeoutMs: o.timeoutMs,
          connectTimeoutMs: o.timeoutMs,
          insecure: true,
          signal: ctx.signal,
          onResolved: (ip) => {
            if (!o.quiet) stderr += `Connecting to ${url.hostname} (${ip}:${defaultPort(url)})\n`;
          },
        });
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        return fail(failureText(err.failure));
      }
      if (o.serverResponse) stderr += `  HTTP/${result.httpVersion} ${result.status} ${result.statusText}\n${result.headers.map(([k, v]) => `  ${k}: ${v}\n`).join('')}`;
      const location = result.headers.find(([k]) => k.toLowerCase() === 'location')?.[1];
      if (result.status >= 300 && result.status <= 399 && location && redirects < 20) {
        url = new URL(location, url);
        if (result.status !== 307 && result.status !== 308) {
          method = o.spider ? 'HEAD' : 'GET';
          body = undefined;
        }
        continue;
      }
      break;
    }
    const r = result!;
    if (r.status < 200 || r.status > 299) return fail(`server returned error: HTTP/${r.httpVersion} ${r.status} ${r.statusText}`);
    if (o.spider) return { stdout: '', stderr: o.quiet ? stderr : stderr + 'remote file exists\n', exitCode: 0 };
    if (!o.quiet) stderr += toStdout ? 'writing to stdout\n' : `saving to '${file}'\n`;
    let stdout = '';
    if (toStdout) stdout = r.body.toString('latin1');
    else await ctx.fs.writeFile(absolutePath(ctx.cwd, file), new Uint8Array(r.body));
    if (!o.quiet) stderr += `${(toStdout ? '-' : file).padEnd(20).slice(0, 20)} 100% |********************************| ${String(r.body.length).padStart(5)}  0:00:00 ETA\n${toStdout ? 'written to stdout' : `'${file}' saved`}\n`;
    return { stdout, stderr, exitCode: 0, stdoutKind: 'bytes' as const };
  });
}

function failureText(f: HttpFailure): string {
  switch (f.kind) {
    case 'resolve': return `bad address '${f.host}'`;
    case 'connect': return f.code === 'ETIMEDOUT' ? 'download timed out' : `can't connect to remote host (${f.ip}): ${f.message}`;
    case 'timeout': return 'download timed out';
    case 'empty': return 'error getting response: Connection reset by peer';
    case 'reset': return `error getting response: ${f.message}`;
    case 'tls': return `error getting response: ${f.message}`;
    case 'aborted': return 'download timed out';
  }
}
