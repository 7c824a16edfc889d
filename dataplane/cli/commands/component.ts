/**
 * `knet controller-manager|node NAME|proxy|dns|ingress`: one component in its own process,
 * against the cluster's Redis (from --redis, KNET_REDIS_URL or the state dir). This is how
 * `knet up` runs them, and how another machine joins a shared cluster.
 */
import { connect, type GlobalOptions } from '../connect.js';
import { StoreInformerFactory } from '../../base/store/watch.js';
import { abandonConnection, storeAnswers } from '../../base/store/redis-connection.js';
import { startComponent, type ComponentName } from '../../cluster/components.js';
import { createLogger, type Level } from '../../base/log.js';
import { nodeOrdinal } from '../../base/cluster-config.js';
import { dnsSettingsFromFlags, type DnsFlags } from '../../../dns/dns-flags.js';

export interface ComponentOptions extends GlobalOptions, DnsFlags {
  nodes?: string;
  logLevel?: Level;
}

/** How long the store may take to answer at shutdown before the component stops without it. */
const STORE_ANSWER_MS = 300;

export async function componentCommand(name: ComponentName, opts: ComponentOptions): Promise<void> {
  const dns = name === 'dns' ? dnsSettingsFromFlags(opts) : undefined; // a bad flag fails before connecting
  const log = createLogger('knet', { level: opts.logLevel });
  // Signals are taken from the start: one that arrives while the component is still starting
  // (a node agent already serving pods, say) stops it once started, instead of Node's default
  // of dying on the spot with its programs and store writes left behind.
  const started: { shutdown?: (why: string) => Promise<void> } = {};
  let requested: string | undefined;
  const onStop = (why: string) => {
    if (started.shutdown) return void started.shutdown(why);
    requested ??= why;
    // A start that never finishes (a store that does not answer) must not keep it alive.
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGINT', () => onStop('SIGINT'));
  process.on('SIGTERM', () => onStop('SIGTERM'));
  // Started by a supervisor that died: do not linger as an orphan.
  process.on('disconnect', () => onStop('supervisor gone'));
  const conn = await connect(opts, 'component');
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
    // A store that does not answer would hold the component's last writes (pod status, events)
    // until their retries run out: drop the connections, and the component closes without them.
    if (!(await storeAnswers(conn.store.redis, STORE_ANSWER_MS))) {
      log.warn('the state store does not answer; stopping without it');
      abandonConnection(conn.store.redis);
      await informers.close();
    }
    await component.close().catch((err: Error) => log.error('close failed', { error: err }));
    await informers.close();
    await conn.close();
    process.exit(0);
  };
  started.shutdown = shutdown;
  if (requested) await shutdown(requested);
  await new Promise(() => {});
}

async function localNodes(store: import('../../base/store/object-store.js').ObjectStore, component: ComponentName): Promise<string[]> {
  if (nodeOrdinal(component) !== undefined) return [component];
  const nodes = (await store.list('Node')).items.map((n) => n.metadata?.name ?? '').filter((n) => nodeOrdinal(n) !== undefined);
  return nodes.length ? nodes : ['node-1', 'node-2'];
}
