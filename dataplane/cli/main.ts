#!/usr/bin/env node
/**
 * The `knet` command line (commander). Output and exit codes follow kubectl: tables on
 * stdout, `error: <one-line reason>` on stderr and exit 1 on failure.
 */
import { Command, Option } from 'commander';
import { RESOURCE_HELP } from '../base/printers/resources.js';
import type { GlobalOptions } from './connect.js';
import { nodeOrdinal } from '../base/cluster-config.js';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');
// `knet get pods | head -1` closes our stdout early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));
const collect = (v: string, prev: string[] = []) => [...prev, v];
const bool = (v: string) => {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new Error(`not a boolean: ${v} (true or false)`);
};
const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`not an integer: ${v}`);
  return n;
};

const program = new Command();
program
  .name('knet')
  .description('A Kubernetes networking data plane on loopback: real pods, kube-proxy, cluster DNS and ingress, with Redis as the state store.')
  .option('--state-dir <dir>', 'where clusters keep their state (default ~/.knet, or KNET_STATE_DIR)')
  .option('--cluster <name>', 'which cluster (default "default", or KNET_CLUSTER)')
  .option('--redis <url>', 'use this Redis as the state store instead of the state dir (or KNET_REDIS_URL); redis://, rediss://, redis-sentinel://, redis-cluster://')
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: false });

const g = (cmd: Command): GlobalOptions => cmd.optsWithGlobals() as GlobalOptions;
// Each command loads its own modules when it runs: a component process (`knet node node-1`)
// must not pay for parsing the apply path, the printers and the schema validators, and
// `knet up` starts seven of them at once.
const commands = {
  get: () => import('./commands/get.js'),
  describe: () => import('./commands/describe.js'),
  change: () => import('./commands/change.js'),
  logs: () => import('./commands/logs.js'),
  portForward: () => import('./commands/port-forward.js'),
  exec: () => import('./commands/exec.js'),
  up: () => import('./commands/up.js'),
  component: () => import('./commands/component.js'),
  netpol: () => import('./commands/netpol.js'),
};
/** The cluster DNS's flags, on `knet dns` and (stored as the cluster's settings) on `knet up`. */
const dnsFlags = (cmd: Command) =>
  cmd
    .option('--upstream <host[:port]>', 'DNS: resolver for names outside the cluster zone (default: the first nameserver of /etc/resolv.conf)')
    .option('--no-forward', 'DNS: do not forward names outside the cluster zone (answer REFUSED)')
    .option('--log-queries', 'DNS: print one line per query (CoreDNS log format)');

const up = program
  .command('up')
  .description('start a cluster (embedded Redis, controller-manager, nodes, proxy, dns, ingress), apply manifests, wait until ready')
  .option('-f, --filename <path>', 'manifest file or directory to apply once up (repeatable; - for stdin)', collect)
  .option('--nodes <n>', 'number of nodes', int, 2)
  .option('-d, --detach', 'run in the background and return once ready (stop with knet down)')
  .option('--single-process', 'run every component inside this one process (fastest start; used by tests)')
  .option('--timeout <seconds>', 'how long to wait for the manifests to become ready (what is not ready then is reported; the cluster keeps running)', int, 120)
  .option('--wait [bool]', 'wait until the manifests are ready (--wait=false: return once they are applied)', bool, true)
  .option('--dns-port <port>', 'port for the cluster DNS (default 53, falls back to 5353 without privilege)', int)
  .option('--no-ingress', 'do not run the ingress controller')
  .option('--no-dns', 'do not run the cluster DNS')
  .option('--no-proxy', 'do not run kube-proxy')
  .option('--allow-external-ips', "let Services' externalIPs and loadBalancerIP use addresses outside loopback, reachable from the network (stored with the cluster)")
  .option('--event-ttl <seconds>', "how long an Event lives after its last update (kube-apiserver's --event-ttl; default 3600)", int)
  .action(async (opts, cmd: Command) => (await commands.up()).upCommand({ ...g(cmd), ...opts }, out));
dnsFlags(up);

program.command('down').description('stop the cluster started by `knet up` (all its processes and its embedded Redis)').action(async (_o, cmd: Command) => (await commands.up()).downCommand(g(cmd), out));

program
  .command('apply')
  .description('create or update objects from manifests, all or nothing')
  .requiredOption('-f, --filename <path>', 'file, directory or - for stdin (repeatable)', collect)
  .option('--wait', 'wait until the applied workloads are ready')
  .option('--timeout <seconds>', 'with --wait: how long', int, 60)
  .action(async (opts, cmd: Command) => (await commands.change()).applyCommand(opts.filename, { ...g(cmd), ...opts }, out));

program
  .command('delete')
  .description('delete objects by file or by KIND NAME')
  .argument('[args...]', 'TYPE NAME… or TYPE/NAME…')
  .option('-f, --filename <path>', 'manifest whose objects to delete (repeatable)', collect)
  .option('-n, --namespace <ns>', 'namespace')
  .option('--grace-period <seconds>', 'pods: seconds to terminate (0 = at once)', int)
  .option('--cascade <strategy>', 'dependents: "background" (deleted after), "foreground" (deleted first; the object waits for them) or "orphan" (kept, without the reference)', 'background')
  .option('--ignore-not-found', 'treat "not found" as success')
  .action(async (args: string[], opts, cmd: Command) => (await commands.change()).deleteCommand(args, { ...g(cmd), ...opts }, out));

program
  .command('get')
  .description(`list objects as kubectl does. KIND: ${RESOURCE_HELP}`)
  .argument('<resources...>', 'TYPE [NAME…] or TYPE/NAME… (short type names work: po, svc, ep, eps, deploy, ing, no, ns)')
  .option('-n, --namespace <ns>', 'namespace (default "default")')
  .option('-A, --all-namespaces', 'every namespace')
  .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier!=db,env in (a,b)')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['wide', 'yaml', 'json', 'name']))
  .option('-w, --watch', 'after listing, stream changes')
  .action(async (resources: string[], opts, cmd: Command) => (await commands.get()).getCommand(resources, { ...g(cmd), ...opts }, out));

program
  .command('describe')
  .description('show objects in detail, with their events')
  .argument('<resources...>', 'TYPE [NAME…] or TYPE/NAME… (a type alone: every object of it)')
  .option('-n, --namespace <ns>', 'namespace')
  .action(async (resources: string[], opts, cmd: Command) => (await commands.describe()).describeCommand(resources, { ...g(cmd), ...opts }, out));

program
  .command('events')
  .description('list events (what controllers and nodes did, probe failures, restarts)')
  .option('-n, --namespace <ns>', 'namespace')
  .option('-A, --all-namespaces', 'every namespace')
  .option('-w, --watch', 'stream new events')
  .action(async (opts, cmd: Command) => (await commands.get()).getCommand(['events'], { ...g(cmd), ...opts }, out));

program
  .command('scale')
  .description('set the replicas of a deployment, replicaset or statefulset')
  .argument('<resources...>', 'TYPE NAME… or TYPE/NAME…')
  .requiredOption('--replicas <n>', 'desired replicas', int)
  .option('-n, --namespace <ns>', 'namespace')
  .action(async (resources: string[], opts, cmd: Command) => (await commands.change()).scaleCommand(resources, { ...g(cmd), ...opts }, out));

program
  .command('rollout')
  .description('rollout restart TYPE NAME (or TYPE/NAME): restart every pod with a rolling update; a type alone restarts all of it')
  .argument('<action>', 'restart')
  .argument('<resources...>', 'TYPE [NAME…] or TYPE/NAME… (deployments, statefulsets, daemonsets)')
  .option('-n, --namespace <ns>', 'namespace')
  .action(async (action: string, resources: string[], opts, cmd: Command) => {
    if (action !== 'restart') throw new Error(`unknown rollout action "${action}" (supported: restart)`);
    return (await commands.change()).rolloutRestartCommand(resources, { ...g(cmd), ...opts }, out);
  });

program
  .command('port-forward')
  .description('forward local ports to a pod, as kubectl: `knet port-forward svc/web 8080:80` (pods are real listeners; the copy connects to the pod IP)')
  .argument('<target>', 'pod/NAME, svc/NAME, deploy/NAME (also rs/, sts/, ds/), or a pod name')
  .argument('<ports...>', '[LOCAL:]REMOTE: REMOTE is a port number or name (a Service port for svc/); an empty LOCAL picks a free port')
  .option('-n, --namespace <ns>', 'namespace')
  .option('--address <addresses>', 'addresses to listen on, comma-separated (localhost = 127.0.0.1 and ::1)', 'localhost')
  .option('--pod-running-timeout <seconds>', 'how long to wait for a pod of a service or workload to exist', int, 60)
  .action(async (target: string, ports: string[], opts, cmd: Command) => (await commands.portForward()).portForwardCommand(target, ports, { ...g(cmd), ...opts }, out));

program
  .command('logs')
  .description("print a container's output")
  .argument('<pod>', 'POD, or TYPE/NAME (pod/, deploy/, svc/…: one of its pods)')
  .option('-c, --container <name>', 'container (default: the default-container annotation, else the first)')
  .option('-f, --follow', 'stream until the container stops')
  .option('-p, --previous', "the previous run's log (the last terminated one)")
  .option('--timestamps', 'prefix every line with its time (RFC 3339, nanoseconds)')
  .option('--tail <lines>', 'only the last lines (-1: all)', int)
  .option('--since <duration>', 'only lines newer than this (5s, 2m, 3h)')
  .option('--since-time <time>', 'only lines after this RFC 3339 time')
  .option('--limit-bytes <bytes>', 'at most this many bytes', int)
  .option('-n, --namespace <ns>', 'namespace')
  .action(async (pod: string, opts, cmd: Command) => (await commands.logs()).logsCommand(pod, { ...g(cmd), ...opts }, out));

program
  .command('exec')
  .description("run a command in a container, as kubectl exec: `knet exec client -- wget -qO- web`, `knet exec -it client -- sh` (emulated images: the pod's simulated shell; programs: a local process)")
  .argument('<pod>', 'POD, or TYPE/NAME (deploy/, svc/…: one of its pods)')
  .argument('[command...]', 'the command and its arguments, after --')
  .option('-c, --container <name>', 'container (default: the default-container annotation, else the first)')
  .option('-i, --stdin', 'pass stdin to the container')
  .option('-t, --tty', 'stdin is a TTY')
  .option('-q, --quiet', 'only print output from the remote session')
  .option('-n, --namespace <ns>', 'namespace')
  .action(async (pod: string, command: string[], opts, cmd: Command) => (await commands.exec()).execCommand(pod, command, { ...g(cmd), ...opts }));

program
  .command('node')
  .description('`knet node stop|start NAME` injects or clears a node fault (heartbeats stop, node goes NotReady); `knet node NAME` runs a node agent (kubelet)')
  .argument('<action-or-name>', 'stop, start, or a node name (node-N) to run')
  .argument('[name]', 'with stop/start: the node')
  .option('--log-level <level>', 'debug, info, warn, error', 'info')
  .action(async (first: string, name: string | undefined, opts, cmd: Command) => {
    if (first === 'stop' || first === 'start') {
      if (!name) throw new Error(`usage: knet node ${first} NAME`);
      return (await commands.change()).nodeFaultCommand(first, name, g(cmd), out);
    }
    if (nodeOrdinal(first) === undefined) throw new Error(`node names are node-N (got "${first}")`);
    return (await commands.component()).componentCommand(first as `node-${number}`, { ...g(cmd), ...opts });
  });

const netpol = program.command('netpol').description('NetworkPolicy: who can reach whom, and why (the same decision the data plane enforces)');
netpol
  .command('matrix')
  .description('print the pod-to-pod reachability matrix (rows: from, columns: to; . allowed, X denied)')
  .option('-n, --namespace <ns>', 'only pods of this namespace (repeat for several)', collect)
  .option('--port <port>', "PORT or PORT/PROTOCOL to check (default: each destination pod's first container port)")
  .action(async (opts, cmd: Command) => (await commands.netpol()).netpolMatrixCommand({ ...g(cmd), ...opts }, out));
netpol
  .command('why')
  .description('explain one verdict: which policies isolate FROM and TO, and which rule allows or why none does')
  .argument('<from>', 'NAMESPACE/POD, POD (in -n) or an IP')
  .argument('<to>', 'NAMESPACE/POD, POD (in -n) or an IP')
  .argument('<port>', 'PORT or PORT/PROTOCOL, e.g. 80/TCP')
  .option('-n, --namespace <ns>', 'namespace of FROM and TO when given as bare pod names', collect)
  .action(async (from: string, to: string, port: string, opts, cmd: Command) => (await commands.netpol()).netpolWhyCommand(from, to, port, { ...g(cmd), ...opts }, out));

program
  .command('kubeconfig')
  .description("print the cluster's admin kubeconfig (what `knet up` merged into your kubeconfig as context knet-<cluster>)")
  .action(async (_o, cmd: Command) => (await commands.up()).kubeconfigCommand(g(cmd), out));

for (const [name, description] of [
  ['apiserver', 'run the Kubernetes API server (HTTPS on the cluster\'s apiserver address, port 6443)'],
  ['controller-manager', 'run the scheduler and controllers (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs, EndpointSlices, node lifecycle)'],
  ['proxy', 'run kube-proxy for the nodes on this machine (ClusterIP, NodePort, LoadBalancer, externalIPs)'],
  ['dns', 'run the cluster DNS server'],
  ['ingress', 'run the ingress controller'],
] as const) {
  const command = program
    .command(name)
    .description(description)
    .option('--nodes <names>', 'comma-separated nodes this machine serves (default: all)')
    .option('--log-level <level>', 'debug, info, warn, error', 'info')
    .action(async (opts, cmd: Command) => (await commands.component()).componentCommand(name, { ...g(cmd), ...opts }));
  if (name === 'dns') dnsFlags(command);
}

program.parseAsync(process.argv).catch(async (err: unknown) => {
  // A store that stopped answering mid-command is said in one line, as at connect.
  const e = (await import('./connect.js')).explainStoreFailure(err) as Error;
  process.stderr.write(`error: ${e.message}\n`);
  if (process.env.KNET_DEBUG) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
