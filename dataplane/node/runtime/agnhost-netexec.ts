/**
 * `registry.k8s.io/e2e-test-images/agnhost netexec`, the server the Kubernetes e2e network tests
 * talk to, emulated after test/images/agnhost/netexec/netexec.go (agnhost 2.4x):
 *
 * Flags: --http-port (8080), --udp-port (8081, -1 disables UDP), --delay-shutdown (seconds to keep
 * serving after SIGTERM, then exit 0), --http-override (serve that path for every request);
 * --sctp-port, --udp-listen-addresses, --tls-cert-file and --tls-private-key-file are accepted and
 * ignored (everything binds the pod IP; no TLS: the image's certificate is not available here).
 *
 * HTTP: `/` "NOW: <time>", `/clientip` peer ip:port, `/echo?msg=&code=`, `/exit?code=&timeout=&wait=`
 * (the container exits with that code; with timeout=0, the default, at once and without a
 * response), `/healthz` (200 once the UDP server is up, else 412, as upstream — so with
 * --udp-port=-1 it stays 412), `/readyz` (503 "shutting down" after SIGTERM), `/hostname`,
 * `/hostName`, `/header[?key=]`, `/redirect?location=&code=`, `/dial?host=&port=&request=&protocol=
 * http|udp&tries=` (dials from the pod IP), `/shutdown` (exit 0). `/shell` and `/upload` answer 501:
 * a pod here is not a container with a filesystem and shell of its own.
 *
 * UDP: the datagram is trimmed and lower-cased, then `hostname` → hostname, `echo <msg>` → msg,
 * `clientip` → peer ip:port; anything else gets no answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { plainIp } from '../../base/net/ip.js';
import { parseFlags, parseGoDuration } from './agnhost-image.js';
import { dialHttp, dialUdp, goJson } from './agnhost-dial.js';
import type { ContainerContext, ContainerProcess } from './container-process.js';
import { EmulatedProcess, sendError, sendText, startListening } from './emulated-process.js';

const FLAGS = {
  'http-port': 'int', 'udp-port': 'int', 'sctp-port': 'int', 'delay-shutdown': 'int',
  'http-override': 'string', 'udp-listen-addresses': 'string', 'tls-cert-file': 'string', 'tls-private-key-file': 'string',
} as const;
const DEFAULTS = { 'http-port': 8080, 'udp-port': 8081, 'sctp-port': -1, 'delay-shutdown': 0, 'http-override': '', 'udp-listen-addresses': '', 'tls-cert-file': '', 'tls-private-key-file': '' };

export async function startNetexec(ctx: ContainerContext, flagArgs: string[]): Promise<ContainerProcess> {
  const proc = new EmulatedProcess(ctx.podIP, ctx.netpol);
  const log = (m: string) => ctx.log.goLog(m);
  let flags;
  try {
    flags = parseFlags(flagArgs, FLAGS, DEFAULTS);
  } catch (err) {
    ctx.log.write(`Error: ${(err as Error).message}\n`, 'stderr');
    proc.exit(1);
    return proc;
  }
  const httpPort = flags['http-port'] as number;
  const udpPort = flags['udp-port'] as number;
  const delayShutdown = flags['delay-shutdown'] as number;
  const override = flags['http-override'] as string;
  let udpReady = false;
  const started = process.hrtime.bigint();

  proc.onTerm = () => {
    if (delayShutdown > 0) {
      log(`Sleeping ${delayShutdown} seconds before terminating...`);
      proc.after(delayShutdown * 1000, () => proc.exit(0));
    } else proc.exit(0);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(override || req.url || '/', 'http://x');
    void readForm(req, url).then((form) => route(req, res, url.pathname, form)).catch(() => res.destroy());
  };

  const route = (req: IncomingMessage, res: ServerResponse, path: string, form: URLSearchParams) => {
    const value = (k: string) => form.get(k) ?? '';
    switch (path) {
      case '/clientip':
        log('GET /clientip');
        return sendText(res, 200, `${plainIp(req.socket.remoteAddress)}:${req.socket.remotePort}`);
      case '/header': {
        const key = value('key');
        log(key ? `GET /header?key=${key}` : 'GET /header');
        return sendText(res, 200, key ? headerValue(req, key) : goJson(canonicalHeaders(req)));
      }
      case '/dial':
        return void dial(req, res, form);
      case '/echo': {
        const msg = value('msg');
        const code = value('code');
        log(`GET /echo?msg=${msg}&code=${code}`);
        if (code === '') return sendText(res, 200, msg);
        if (!/^[+-]?\d+$/.test(code)) return sendText(res, 200, `argument 'code' must be an integer or empty, got ${JSON.stringify(code)}\n`);
        // Go panics on an invalid status code and the server drops the connection.
        if (Number(code) < 100 || Number(code) > 999) return void res.destroy();
        return sendText(res, Number(code), msg);
      }
      case '/exit':
        return exit(res, form);
      case '/healthz':
        log('GET /healthz');
        return sendText(res, udpReady ? 200 : 412, '');
      case '/readyz':
        log('GET /readyz');
        if (proc.terminating) return sendText(res, 503, 'shutting down');
        return udpReady ? sendText(res, 200, 'ok') : sendText(res, 412, '');
      case '/hostname':
      case '/hostName':
        log(`GET ${path}`);
        return sendText(res, 200, ctx.hostname);
      case '/redirect': {
        const location = value('location');
        const code = value('code');
        log(`${req.method} /redirect?msg=${location}&code=${code}`);
        if (code !== '' && !/^[+-]?\d+$/.test(code)) return sendText(res, 200, `argument 'code' must be an integer or empty, got ${JSON.stringify(code)}\n`);
        return redirect(req, res, location, code === '' ? 302 : Number(code));
      }
      case '/shutdown':
        log('GET /shutdown');
        return proc.exit(0);
      case '/shell':
      case '/upload':
        log(`GET ${path}`);
        return sendError(res, 501, `knet: agnhost ${path} is not emulated (pods run on the host, not in a container)`);
      default:
        log('GET /');
        return sendText(res, 200, `NOW: ${goNow(started)}`);
    }
  };

  const exit = (res: ServerResponse, form: URLSearchParams) => {
    const waitS = form.get('wait') ?? '';
    const timeoutS = form.get('timeout') ?? '';
    const codeS = form.get('code') ?? '';
    log(`GET /exit?code=${codeS}&timeout=${timeoutS}&wait=${waitS}`);
    const timeout = timeoutS === '' ? 0 : parseGoDuration(timeoutS);
    if (timeout === undefined) return sendText(res, 200, `argument 'timeout' must be a valid golang duration or empty, got ${JSON.stringify(timeoutS)}\n`);
    const wait = waitS === '' ? 0 : parseGoDuration(waitS);
    if (wait === undefined) return sendText(res, 200, `argument 'wait' must be a valid golang duration or empty, got ${JSON.stringify(waitS)}\n`);
    if (codeS !== '' && !/^[+-]?\d+$/.test(codeS)) return sendText(res, 200, `argument 'code' must be an integer [0-127] or empty, got ${JSON.stringify(codeS)}\n`);
    // os.Exit(code): the status the parent sees is the low byte.
    const code = (((codeS === '' ? 0 : Number(codeS)) % 256) + 256) % 256;
    log(`Will begin shutdown in ${waitS || '0s'}, allowing ${timeoutS || '0s'} for connections to close, then will exit with ${code}`);
    const go = () => {
      if (timeout <= 0) return proc.exit(code);
      sendText(res, 200, '');
      proc.shutdownHttp(timeout, () => {
        log('Graceful shutdown completed with: <nil>');
        proc.exit(code);
      });
    };
    if (wait > 0) proc.after(wait, go);
    else go();
  };

  const dial = async (req: IncomingMessage, res: ServerResponse, form: URLSearchParams) => {
    const host = form.get('host') ?? '';
    const port = form.get('port') ?? '';
    const request = form.get('request') ?? '';
    const protocol = (form.get('protocol') ?? '').toLowerCase();
    const triesS = form.get('tries') ?? '';
    log(`GET /dial?host=${host}&protocol=${protocol}&port=${port}&request=${request}&tries=${triesS}`);
    if (triesS !== '' && !/^[+-]?\d+$/.test(triesS)) return sendError(res, 400, `tries parameter is invalid. strconv.Atoi: parsing ${JSON.stringify(triesS)}: invalid syntax`);
    const tries = triesS === '' ? 1 : Number(triesS);
    if (request === '') return sendError(res, 400, 'request parameter not specified. <nil>');
    if (protocol !== '' && protocol !== 'http' && protocol !== 'udp') return sendError(res, 400, `unsupported protocol. ${protocol}`);
    if (!/^\d+$/.test(port) || Number(port) > 65535) return sendError(res, 400, `host and/or port param are invalid. address ${host}:${port}: invalid port`);
    const responses: string[] = [];
    const errors: string[] = [];
    let last = '';
    for (let i = 0; i < tries && proc.running; i++) {
      try {
        last = protocol === 'udp' ? await dialUdp(ctx.podIP, host, Number(port), request, ctx.netpol) : await dialHttp(ctx.podIP, host, Number(port), request, ctx.netpol);
        responses.push(last);
      } catch (err) {
        last = '';
        errors.push((err as Error).message);
      }
    }
    if (!proc.running || req.socket.destroyed) return;
    // Upstream keys the output on the last response only; json.Marshal sorts map keys.
    const output: Record<string, string[]> = {};
    if (errors.length > 0) output.errors = errors;
    if (last.length > 0) output.responses = responses;
    sendText(res, 200, goJson(output));
  };

  return startListening(proc, log, async () => {
    if (udpPort !== -1) {
      await proc.listenUdp(udpPort, (msg, peer, reply) => {
        const text = msg.toString('utf8').trim().toLowerCase();
        const client = `${peer.address}:${peer.port}`;
        if (text === 'hostname') {
          log('Sending udp hostName response');
          reply(ctx.hostname);
        } else if (text.startsWith('echo ')) {
          const resp = text.slice(5);
          log(`Echoing ${resp} to UDP client ${client}`);
          reply(resp);
        } else if (text === 'clientip') {
          log(`Sending clientip back to UDP client ${client}`);
          reply(client);
        } else if (text.length > 0) log(`Unknown UDP command received from ${client}: ${text}`);
      });
      log(`Started UDP server on port ${ctx.podIP} ${udpPort}`);
      udpReady = true;
    }
    log(`Started HTTP server on port ${httpPort}`);
    await proc.listenHttp(httpPort, handle);
  });
}

/** r.FormValue: the query, plus an urlencoded POST/PUT/PATCH body whose values come first. */
async function readForm(req: IncomingMessage, url: URL): Promise<URLSearchParams> {
  const form = new URLSearchParams();
  const type = req.headers['content-type'] ?? '';
  if (['POST', 'PUT', 'PATCH'].includes(req.method ?? '') && type.startsWith('application/x-www-form-urlencoded')) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > 10 << 20) break;
      chunks.push(c as Buffer);
    }
    for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) form.append(k, v);
  } else req.resume();
  for (const [k, v] of url.searchParams) form.append(k, v);
  return form;
}

/** Go's http.Redirect for a plain location (relative paths resolve against the request path). */
function redirect(req: IncomingMessage, res: ServerResponse, location: string, code: number): void {
  let loc = location;
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(loc) && !loc.startsWith('/')) {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    loc = path.slice(0, path.lastIndexOf('/') + 1) + loc;
  }
  if (code < 100 || code > 999) return void res.destroy();
  const body = req.method === 'GET' || req.method === 'HEAD' ? `<a href="${loc.replace(/"/g, '&#34;')}">${statusText(code)}</a>.\n\n` : '';
  res.writeHead(code, { Location: loc, ...(body ? { 'Content-Type': 'text/html; charset=utf-8' } : {}), 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function statusText(code: number): string {
  return ({ 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 307: 'Temporary Redirect', 308: 'Permanent Redirect' } as Record<number, string>)[code] ?? '';
}

/** Go canonical header keys ("x-foo" → "X-Foo") with all values; Host is not a header in Go. */
function canonicalHeaders(req: IncomingMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const key = canonicalKey(req.rawHeaders[i]!);
    if (key === 'Host') continue;
    (out[key] ??= []).push(req.rawHeaders[i + 1]!);
  }
  return out;
}

function headerValue(req: IncomingMessage, key: string): string {
  const want = canonicalKey(key);
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (canonicalKey(req.rawHeaders[i]!) === want) return req.rawHeaders[i + 1]!;
  return '';
}

function canonicalKey(k: string): string {
  return k.toLowerCase().replace(/(^|-)([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase());
}

/** time.Now().String() in UTC: "2006-01-02 15:04:05.999999999 +0000 UTC m=+0.000000001". */
function goNow(started: bigint): string {
  const d = new Date();
  const iso = d.toISOString();
  const ns = (BigInt(d.getUTCMilliseconds()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)).toString().padStart(9, '0').replace(/0+$/, '');
  const mono = Number(process.hrtime.bigint() - started) / 1e9;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ns ? '.' + ns : ''} +0000 UTC m=+${mono.toFixed(9)}`;
}
