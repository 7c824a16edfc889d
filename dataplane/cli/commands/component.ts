/**
 * `knet controller-manager|node NAME|proxy|dns|ingress`: one component in its own process,
 * against the cluster's Redis (from --redis, KNET_REDIS_URL or the state dir). This is how
 * `knet up` runs them, and how another machine joins a shared cluster.
 */
import { connect, type GlobalOptions } from '../connect.js';
import { StoreInformerFactory } from '../../store/watch.js';
import { startComponent, type ComponentName } from '../../cluster/components.js';
import { createLogger, type Level } from '../../log.js';
import { nodeOrdinal } from '../../cluster-config.js';
import { dnsSettingsFromFlags, type DnsFlags } from '../../../dns/dns-flags.js';

export interface ComponentOptions extends GlobalOptions, DnsFlags {
  nodes?: string;
  logLevel?: Level;
}

export async function componentCommand(name: ComponentName, opts: ComponentOptions): Promise<void> {
  const dns = name === 'dns' ? dnsSettingsFromFlags(opts) : undefined; // a bad flag fails before connecting
  const log = createLogger('knet', { level: opts.logLevel });
  const conn = await connect(opts);
  const informers = new StoreInformerFactory(conn.store, { redisUrl: conn.redisUrl, log });
  // The proxy and ingress serve the node IPs of this machine's nodes.
  const nodes = opts.nodes ? opts.nodes.split(',') : await localNodes(conn.store, name);
  const component = await startComponent(name, { store: conn.store, informers, config: conn.config, log, clusterDir: conn.clusterDir, nodes, crashBackoffMs: process.env.KNET_CRASH_BACKOFF_MS ? Number(process.env.KNET_CRASH_BACKOFF_MS) : undefined, dns });
  log.info('component started', { component: name, ...component.info });
  process.send?.({ ready: true, info: component.info });
  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { component: name, why });
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await component.close().catch((err: Error) => log.error('close failed', { error: err }));
    await informers.close();
    await conn.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  // Started by a supervisor that died: do not linger as an orphan.
  process.on('disconnect', () => void shutdown('supervisor gone'));
  await new Promise(() => {});
}

async function localNodes(store: import('../../store/object-store.js').ObjectStore, component: ComponentName): Promise<string[]> {
  if (nodeOrdinal(component) !== undefined) return [component];
  const nodes = (await store.list('Node')).items.map((n) => n.metadata?.name ?? '').filter((n) => nodeOrdinal(n) !== undefined);
  return nodes.length ? nodes : ['node-1', 'node-2'];
}
