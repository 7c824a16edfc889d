/**
 * The peers knet's proxy is measured against, each its own process on loopback: nginx (the
 * backend every target forwards to), haproxy in TCP mode, and a bare Node TCP proxy.
 * Config files live in the bench's temp dir; the machine's own services are never touched.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BACKEND_A = { host: '127.61.0.10', port: 18080 };
export const BACKEND_B = { host: '127.61.0.11', port: 18080 };
export const HAPROXY = { host: '127.61.0.20', port: 18080 };
export const NODE_PIPE = { host: '127.61.0.30', port: 18080 };

export function need(tool: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    process.stderr.write(`error: ${tool} is not installed (apt-get install -y ${pkg})\n`);
    process.exit(1);
  }
}

export function startNginx(dir: string): ChildProcess {
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 10000000;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  server { listen ${BACKEND_A.host}:${BACKEND_A.port}; location / { return 200 "A\\n"; } }
  server { listen ${BACKEND_B.host}:${BACKEND_B.port}; location / { return 200 "B\\n"; } }
}
`,
  );
  return spawn('nginx', ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export function startHaproxy(dir: string): ChildProcess {
  const conf = join(dir, 'haproxy.cfg');
  writeFileSync(
    conf,
    `global
  maxconn 8000
  nbthread 1
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend bench
  bind ${HAPROXY.host}:${HAPROXY.port}
  default_backend nginx
backend nginx
  server a ${BACKEND_A.host}:${BACKEND_A.port}
`,
  );
  return spawn('haproxy', ['-db', '-f', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * The floor for a proxy on Node's net module: accept, connect upstream from the client's own
 * address (as knet's source preservation does), pipe both ways. Run as its own process.
 */
const NODE_PIPE_SOURCE = `
const net = require('node:net');
net.createServer({ allowHalfOpen: true, noDelay: true }, (c) => {
  const u = net.connect({ host: '${BACKEND_A.host}', port: ${BACKEND_A.port}, localAddress: c.remoteAddress, allowHalfOpen: true, noDelay: true });
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
  c.pipe(u);
  u.pipe(c);
}).listen(${NODE_PIPE.port}, '${NODE_PIPE.host}');
`;

export function startNodePipe(): ChildProcess {
  return spawn(process.execPath, ['-e', NODE_PIPE_SOURCE], { stdio: ['ignore', 'ignore', 'inherit'] });
}
