/** `knet get` and `knet events`: kubectl's tables, -o yaml|json|name|wide, -l, -A, -w. */
import type { Kind, KObject } from '../../model/object.js';
import { KINDS } from '../../model/object.js';
import { parseSelector, matchesRequirements } from '../../model/selector.js';
import { StoreInformerFactory } from '../../store/watch.js';
import { connect, type Connection, type GlobalOptions } from '../connect.js';
import { resolveKind } from '../resources.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { printTable, type PrintContext } from '../printers.js';
import { toJson, toName, toYaml } from './output.js';
import { standingBindFailures, type BindEventLike } from '../../../proxy/bind-events.js';

export interface GetOptions extends GlobalOptions {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  output?: string;
  watch?: boolean;
}

export async function getCommand(kindArg: string, name: string | undefined, opts: GetOptions, out: (s: string) => void): Promise<void> {
  const kind = resolveKind(kindArg);
  const conn = await connect(opts);
  try {
    const namespaced = KINDS[kind].namespaced;
    const ns = opts.allNamespaces ? undefined : (opts.namespace ?? 'default');
    const requirements = opts.selector ? parseSelector(opts.selector) : undefined;
    const filter = (o: KObject) =>
      (!namespaced || ns === undefined || o.metadata?.namespace === ns) &&
      (!name || o.metadata?.name === name) &&
      (!requirements || matchesRequirements(requirements, o.metadata?.labels as Record<string, string> | undefined));
    const { items } = await conn.store.list(kind);
    let objects = items.filter(filter);
    if (kind === 'Event') objects = objects.sort((a, b) => String((a as { lastTimestamp?: string }).lastTimestamp).localeCompare(String((b as { lastTimestamp?: string }).lastTimestamp)));
    if (name && objects.length === 0) throw new Error(`${kindArg} "${name}" not found`);
    const showNs = !!opts.allNamespaces && namespaced;
    // `get svc -o wide` shows the endpoints in use, from the EndpointSlices.
    const context: PrintContext = kind === 'Service' && opts.output === 'wide' ? { endpointSlices: (await conn.store.list<EndpointSlice & KObject>('EndpointSlice')).items } : {};
    render(kind, objects, opts, showNs, !!name, out, false, context);
    if (kind === 'Service') await warnBindFailures(conn.store, objects);
    if (!opts.watch) return;
    const informers = new StoreInformerFactory(conn.store, { redisUrl: conn.redisUrl });
    const inf = informers.informer(kind);
    await informers.waitForSync();
    const emit = (o: KObject) => filter(o) && render(kind, [o], opts, showNs, true, out, true, context);
    inf.on({ add: emit, update: (_o, n) => emit(n), delete: emit });
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await informers.close();
  } finally {
    await conn.close();
  }
}

/**
 * A Service port the proxy cannot serve (address held by another program, a port below 1024
 * without privilege) is shown under the table, as kubectl prints warnings: on stderr, one
 * line per failure with its fix, from the proxy's events on the Service.
 */
async function warnBindFailures(store: Connection['store'], services: readonly KObject[]): Promise<void> {
  if (services.length === 0) return;
  const standing = standingBindFailures((await store.list('Event')).items as unknown as BindEventLike[]);
  for (const s of services) {
    for (const message of standing.get(`${s.metadata?.namespace ?? 'default'}/${s.metadata?.name}`) ?? []) {
      process.stderr.write(`Warning: service ${s.metadata?.namespace ?? 'default'}/${s.metadata?.name}: ${message}\n`);
    }
  }
}

function render(kind: Kind, objects: KObject[], opts: GetOptions, allNamespaces: boolean, single: boolean, out: (s: string) => void, noHeaders = false, context: PrintContext = {}): void {
  switch (opts.output) {
    case 'yaml':
      out(toYaml(objects, single) + (noHeaders ? '---' : ''));
      return;
    case 'json':
      out(toJson(objects, single));
      return;
    case 'name':
      for (const o of objects) out(toName(kind, o));
      return;
    case undefined:
    case 'wide':
      if (!objects.length && !noHeaders) {
        out(allNamespaces || !KINDS[kind].namespaced ? 'No resources found' : `No resources found in ${opts.namespace ?? 'default'} namespace.`);
        return;
      }
      out(printTable(kind, objects, { wide: opts.output === 'wide', allNamespaces, noHeaders, context }));
      return;
    default:
      throw new Error(`unable to match a printer suitable for the output format "${opts.output}", allowed formats are: json,name,wide,yaml`);
  }
}
