/**
 * knet's DNS server for the bench, in a process of its own as `knet dns` runs (the bench's
 * own work — spawning dnsperf, reading its per-query output — then costs the server nothing,
 * nor leaves it garbage to collect while it is measured). Started by run.ts with the V8 flags
 * the supervisor gives the dns component; serves the bench's world from memory; takes
 * EndpointSlice upserts over IPC (the change → answer measure) and answers {stats} requests.
 *
 *   node --import ./test/bench/dns/register.mjs [flags] test/bench/dns/knet-server.ts ADDRESS
 */
import { clusterConfig } from '../../../dataplane/base/cluster-config.js';
import { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import { silentLogger } from '../../../dataplane/base/log.js';
import type { KObject } from '../../../dataplane/base/model/object.js';
import { startDns } from '../../../dns/server.js';
import { world } from './world.js';

const address = process.argv[2] ?? '127.50.0.20';
const informers = new MemoryInformerFactory();
for (const o of world().objects) informers.upsert(o);
const dns = await startDns({ informers, config: clusterConfig(0), log: silentLogger, address, port: 53, upstream: null });

process.on('message', (msg: { upsert?: KObject; stats?: boolean }) => {
  if (msg.upsert) informers.upsert(msg.upsert);
  if (msg.stats) process.send?.({ stats: dns.stats() });
});
process.on('disconnect', () => void dns.close().then(() => process.exit(0)));
process.send?.({ ready: true });
