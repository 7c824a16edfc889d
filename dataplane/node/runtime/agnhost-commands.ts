/**
 * The small agnhost subcommands, emulated after their sources in test/images/agnhost:
 *   serve-hostname  HTTP (or raw --tcp / --udp) on --port (9376) answering the hostname; on SIGTERM
 *                   it keeps serving ("Awaiting pod deletion") for 60 s, so terminating pods still
 *                   answer until the grace period ends;
 *   pause           no listener; prints "Paused"; SIGTERM → exit 2 after --delay-shutdown seconds;
 *   liveness        HTTP :8080, /healthz 200 "ok" for 10 s then 500 "error: <seconds>",
 *                   /started, /redirect?loc= (the Kubernetes docs' liveness-probe example).
 * Go programs without a SIGTERM handler run as PID 1 exit with status 2 (the runtime's
 * dieFromSignal fallback), which is what liveness does here.
 */
import { plainIp } from '../../base/net/ip.js';
import { parseFlags } from './agnhost-image.js';
import type { ContainerContext, ContainerProcess } from './container-process.js';
import { EmulatedProcess, sendError, sendText, startListening } from './emulated-process.js';

function flagError(ctx: ContainerContext, proc: EmulatedProcess, err: unknown): ContainerProcess {
  ctx.log.write(`Error: ${(err as Error).message}\n`, 'stderr');
  proc.exit(1);
  return proc;
}

export async function startServeHostname(ctx: ContainerContext, flagArgs: string[]): Promise<ContainerProcess> {
  const proc = new EmulatedProcess(ctx.podIP, ctx.netpol);
  const log = (m: string) => ctx.log.goLog(m);
  let f;
  try {
    f = parseFlags(flagArgs, { tcp: 'bool', udp: 'bool', http: 'bool', close: 'bool', port: 'int' }, { tcp: false, udp: false, http: true, close: false, port: 9376 });
  } catch (err) {
    return flagError(ctx, proc, err);
  }
  const port = f.port as number;
  if (f.http && (f.tcp || f.udp)) {
    log("Can't server TCP/UDP mode and HTTP mode at the same time");
    proc.exit(1);
    return proc;
  }
  proc.onTerm = () => {
    log('Shutting down after receiving signal: terminated.');
    log('Awaiting pod deletion.');
    proc.after(60_000, () => proc.exit(0));
  };
  return startListening(proc, log, async () => {
    if (f.tcp) {
      await proc.listenTcp(port, (s) => {
        log(`TCP request from ${plainIp(s.remoteAddress)}:${s.remotePort}`);
        s.end(ctx.hostname);
      });
    }
    if (f.udp) {
      await proc.listenUdp(port, (_msg, peer, reply) => {
        log(`UDP request from ${peer.address}:${peer.port}`);
        reply(ctx.hostname);
      });
    }
    if (f.http) {
      await proc.listenHttp(port, (req, res) => {
        req.resume();
        log(`HTTP request from ${plainIp(req.socket.remoteAddress)}:${req.socket.remotePort}`);
        sendText(res, 200, ctx.hostname, f.close ? { Connection: 'close' } : {});
      });
    }
    log(`Serving on port ${port}.`);
  });
}

export async function startPause(ctx: ContainerContext, flagArgs: string[]): Promise<ContainerProcess> {
  const proc = new EmulatedProcess(ctx.podIP, ctx.netpol);
  let f;
  try {
    f = parseFlags(flagArgs, { 'delay-shutdown': 'int' }, { 'delay-shutdown': 0 });
  } catch (err) {
    return flagError(ctx, proc, err);
  }
  const delay = f['delay-shutdown'] as number;
  ctx.log.write('Paused\n');
  proc.onTerm = () => {
    const finish = () => {
      ctx.log.write('exiting 2\n');
      proc.exit(2);
    };
    if (delay > 0) {
      ctx.log.write(`Sleeping ${delay} seconds before exit ...`);
      proc.after(delay * 1000, finish);
    } else finish();
  };
  return proc;
}

export async function startLiveness(ctx: ContainerContext, flagArgs: string[]): Promise<ContainerProcess> {
  const proc = new EmulatedProcess(ctx.podIP, ctx.netpol);
  try {
    parseFlags(flagArgs, {}, {});
  } catch (err) {
    return flagError(ctx, proc, err);
  }
  const started = Date.now();
  proc.onTerm = () => proc.exit(2);
  return startListening(proc, (m) => ctx.log.goLog(m), async () => {
    await proc.listenHttp(8080, (req, res) => {
      req.resume();
      const url = new URL(req.url ?? '/', 'http://x');
      const seconds = (Date.now() - started) / 1000;
      switch (url.pathname) {
        case '/started':
          return sendText(res, 200, `${seconds}s`);
        case '/healthz':
          return seconds > 10 ? sendText(res, 500, `error: ${seconds}`) : sendText(res, 200, 'ok');
        case '/redirect': {
          const loc = url.searchParams.get('loc') ?? '';
          res.writeHead(302, { Location: loc, 'Content-Length': '0' });
          return res.end();
        }
        default:
          return sendError(res, 404, '404 page not found');
      }
    });
  });
}
