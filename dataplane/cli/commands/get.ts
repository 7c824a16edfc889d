/** `knet get` and `knet events`: kubectl's tables, -o yaml|json|name|wide, -l, -A, -w. */
import type { Kind, KObject } from '../../base/model/object.js';
import { KINDS } from '../../base/model/object.js';
import { parseSelector, matchesRequirements } from '../../base/model/selector.js';
import { StoreInformerFactory } from '../../base/store/watch.js';
import { connect, UsageError, type Connection, type GlobalOptions } from '../connect.js';
import { parseResourceArgs, type ResourceGroup } from '../resource-args.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { printTable } from '../../base/printers/text-table.js';
import type { PrintContext } from '../../base/printers/columns.js';
import { eventSortTime } from '../../base/printers/event-times.js';
import type { Event } from 'kubernetes-types/core/v1.js';
import { toJson, toName, toYaml } from './output.js';
import { standingBindFailures, type BindEventLike } from '../../../proxy/bind-events.js';

export interface GetOptions extends GlobalOptions {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  output?: string;
  watch?: boolean;
}

export async function getCommand(args: string[], opts: GetOptions, out: (s: string) => void): Promise<void> {
  const groups = parseResourceArgs(args, 'get');
  if (opts.watch && groups.length > 1) throw new UsageError(`watch is only supported on individual resources and resource collections, but ${groups.length} resources were found`);
  const conn = await connect(opts);
  try {
    const ns = opts.allNamespaces ? undefined : (opts.namespace ?? 'default');
    const requirements = opts.selector ? parseSelector(opts.selector) : undefined;
    const filterOf = (kind: Kind, names: string[]) => (o: KObject) =>
      (!KINDS[kind].namespaced || ns === undefined || o.metadata?.namespace === ns) &&
      (names.length === 0 || names.includes(o.metadata?.name ?? '')) &&
      (!requirements || matchesRequirements(requirements, o.metadata?.labels as Record<string, string> | undefined));
    const found: Array<{ group: ResourceGroup; objects: KObject[] }> = [];
    let missing: string | undefined;
    for (const group of groups) {
      const { items } = await conn.store.list(group.kind);
      let objects = items.filter(filterOf(group.kind, group.names));
      if (group.kind === 'Event') objects = objects.sort((a, b) => eventSortTime(a as Event) - eventSortTime(b as Event));
      // Named objects come in the order they were asked for, as kubectl prints them.
      if (group.names.length) objects = group.names.flatMap((n) => objects.filter((o) => o.metadata?.name === n));
      missing ??= group.names.filter((n) => !objects.some((o) => o.metadata?.name === n)).map((n) => `${group.kindArg} "${n}" not found`)[0];
      found.push({ group, objects });
    }
    const single = groups.length === 1 && groups[0]!.names.length === 1;
    const showNs = !!opts.allNamespaces;
    // `get svc -o wide` shows the endpoints in use, from the EndpointSlices.
    const context: PrintContext =
      opts.output === 'wide' && found.some((f) => f.group.kind === 'Service') ? { endpointSlices: (await conn.store.list<EndpointSlice & KObject>('EndpointSlice')).items } : {};
    if (opts.output === 'yaml' || opts.output === 'json') {
      const all = found.flatMap((f) => f.objects);
      if (all.length || !single) out(opts.output === 'yaml' ? toYaml(all, single) : toJson(all, single));
    } else {
      const nonEmpty = found.filter((f) => f.objects.length);
      if (!nonEmpty.length && !missing) render(groups[0]!.kind, [], opts, showNs && KINDS[groups[0]!.kind].namespaced, single, out);
      // Several types: one table each, names prefixed with their type, a blank line between.
      const withKind = new Set(nonEmpty.map((f) => f.group.kind)).size > 1;
      nonEmpty.forEach(({ group, objects }, i) => {
        if (i > 0 && opts.output !== 'name') out('');
        render(group.kind, objects, opts, showNs && KINDS[group.kind].namespaced, single, out, false, context, withKind);
      });
    }
    for (const f of found) if (f.group.kind === 'Service') await warnBindFailures(conn.store, f.objects);
    if (missing) throw new Error(missing);
    if (!opts.watch) return;
    const [{ group }] = found as [{ group: ResourceGroup; objects: KObject[] }];
    const filter = filterOf(group.kind, group.names);
    const informers = new StoreInformerFactory(conn.store, { redisUrl: conn.redisUrl });
    const inf = informers.informer(group.kind);
    await informers.waitForSync();
    const emit = (o: KObject) => filter(o) && render(group.kind, [o], opts, showNs && KINDS[group.kind].namespaced, true, out, true, context);
    // The objects already printed come back as the informer's replay (initial): only changes are new.
    inf.on({ add: (o, initial) => !initial && emit(o), update: (_o, n) => emit(n), delete: emit });
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

function render(kind: Kind, objects: KObject[], opts: GetOptions, allNamespaces: boolean, single: boolean, out: (s: string) => void, noHeaders = false, context: PrintContext = {}, withKind = false): void {
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
      out(printTable(kind, objects, { wide: opts.output === 'wide', allNamespaces, noHeaders, context, withKind }));
      return;
    default:
      throw new Error(`unable to match a printer suitable for the output format "${opts.output}", allowed formats are: json,name,wide,yaml`);
  }
}
