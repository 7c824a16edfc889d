/**
 * The network tools of an emulated image's shell, as its profile lists them
 * (toolbox-images.ts): curl, wget, nc, nslookup, dig, host and ping. A tool the image does not
 * have is missing, as it would be (`sh: curl: not found` in busybox).
 *
 * ping: knet's pods have no ICMP (they are addresses on the host's loopback, which answers
 * every 127.x address, and Node cannot send ICMP without privilege), so ping says what
 * busybox's says in a container without raw sockets and exits 2. To test reachability use
 * `nc -zv HOST PORT` or `wget --spider`; a ClusterIP would not answer a ping in a cluster with
 * kube-proxy's iptables mode either.
 */
import type { Command } from 'just-bash';
import type { JustBash } from '../just-bash-loader.js';
import type { ShellSession } from '../shell-session.js';
import type { PodNetwork } from '../pod-resolver.js';
import type { NetworkTool } from '../toolbox-images.js';
import { curlCommand } from './curl.js';
import { wgetCommand } from './wget.js';
import { nslookupCommand } from './nslookup.js';
import { digCommand } from './dig.js';
import { hostCommand } from './host.js';
import { ncCommand } from './nc.js';

export function networkCommands(lib: JustBash, session: ShellSession, network: PodNetwork, tools: ReadonlySet<NetworkTool>): Command[] {
  const make: Record<NetworkTool, () => Command> = {
    curl: () => curlCommand(lib, session, network),
    wget: () => wgetCommand(lib, network),
    nslookup: () => nslookupCommand(lib, network),
    dig: () => digCommand(lib, network),
    host: () => hostCommand(lib, network),
    nc: () => ncCommand(lib, session, network),
    ping: () => lib.defineCommand('ping', async (args) => {
      if (args.length === 0) return { stdout: '', stderr: 'BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\nUsage: ping [OPTIONS] HOST\n', exitCode: 1 };
      return { stdout: '', stderr: 'ping: permission denied (are you root?)\n', exitCode: 2 };
    }),
  };
  // just-bash's own curl exists only with its `network` option, which is never given.
  return [...tools].map((t) => make[t]());
}
