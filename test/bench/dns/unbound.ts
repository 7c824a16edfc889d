/**
 * unbound as the DNS bench's peer: one thread (knet answers on one event loop), serving the
 * bench's records as local-data from a config in the bench's temp dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Rec {
  name: string;
  type: 'A' | 'SRV' | 'PTR' | 'SOA';
  data: string;
}

export const UNBOUND_THREADS = 1;

export function startUnbound(dir: string, address: string, zone: string, records: Rec[]): ChildProcess {
  const lines = [
    'server:',
    `  interface: ${address}`,
    '  port: 53',
    `  num-threads: ${UNBOUND_THREADS}`,
    '  do-daemonize: no',
    '  use-syslog: no',
    '  logfile: ""',
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    '  pidfile: ""',
    '  verbosity: 0',
    '  access-control: 127.0.0.0/8 allow',
    // The same kernel buffers as knet's UDP socket (udp-listener.ts).
    '  so-rcvbuf: 4m',
    '  so-sndbuf: 4m',
    `  local-zone: "${zone}." static`,
    '  local-zone: "10.in-addr.arpa." static',
    `  local-data: "${zone}. 30 IN SOA ns.dns.${zone}. hostmaster.${zone}. 1 7200 1800 86400 30"`,
    '  local-data: "10.in-addr.arpa. 30 IN SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. 1 7200 1800 86400 30"',
    ...records.map((r) => `  local-data: "${r.name}. 30 IN ${r.type} ${r.data}"`),
  ];
  const file = join(dir, 'unbound.conf');
  writeFileSync(file, lines.join('\n') + '\n');
  return spawn('unbound', ['-d', '-c', file], { stdio: ['ignore', 'ignore', 'inherit'] });
}
