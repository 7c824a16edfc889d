/**
 * Informers → route table. Any change to an Ingress, IngressClass, Service, EndpointSlice
 * or Secret schedules one full recompute (kube-proxy's syncProxyRules style) on the next
 * turn of the event loop, so a burst of events delivered together costs one rebuild and a
 * change is routable within a millisecond or two. Requests always read the last complete
 * table: a rebuild swaps it atomically.
 */
import type { Secret, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import type { InformerFactory } from '../dataplane/base/informer/informer-types.js';
import type { KObject, Kind } from '../dataplane/base/model/object.js';
import type { Logger } from '../dataplane/base/log.js';
import { buildRouteTable, type RouteTable } from './route-table.js';
import { slicesLookup, type SlicesOfService } from '../dataplane/base/informer/indexes.js';

const WATCHED: Kind[] = ['Ingress', 'IngressClass', 'Service', 'EndpointSlice', 'Secret'];

export class TableSync {
  private table: RouteTable;
  private pending: NodeJS.Immediate | undefined;
  private readonly unsubscribe: Array<() => void> = [];
  private closed = false;
  /** A Service's slices through the slice informer's service-name index. */
  private readonly slicesOf: SlicesOfService;

  constructor(
    private readonly informers: InformerFactory,
    private readonly log: Logger,
    private readonly onTable: (table: RouteTable) => void,
    /** An Ingress whose update changed only its status: the table stands, the status is news. */
    private readonly onIngressStatus?: (ingress: Ingress) => void,
  ) {
    this.slicesOf = slicesLookup(informers.informer<EndpointSlice>('EndpointSlice'));
    this.table = this.compute();
  }

  /** Subscribes, waits for the first list of every kind, and builds the first table. */
  async start(): Promise<void> {
    for (const kind of WATCHED) {
      const handler = () => this.schedule();
      const update =
        kind === 'Ingress'
          ? (old: KObject, cur: KObject) => {
              // Our own status write echoes back for every Ingress we serve: rebuilding for
              // it doubled the controller's work per Ingress change, for an identical table.
              if (this.onIngressStatus && onlyStatusChanged(old as Ingress, cur as Ingress)) this.onIngressStatus(cur as Ingress);
              else this.schedule();
            }
          : handler;
      this.unsubscribe.push(this.informers.informer(kind).on({ add: handler, update, delete: handler }));
    }
    await this.informers.waitForSync();
    this.rebuild();
  }

  current(): RouteTable {
    return this.table;
  }

  /** Rebuilds now (tests and the initial sync). */
  rebuild(): void {
    if (this.pending) {
      clearImmediate(this.pending);
      this.pending = undefined;
    }
    if (this.closed) return;
    try {
      this.table = this.compute();
    } catch (err) {
      // A table that cannot be built keeps the previous one serving, as a failed nginx reload does.
      this.log.error('route table rebuild failed; keeping the previous table', { error: err as Error });
      return;
    }
    try {
      this.onTable(this.table);
    } catch (err) {
      this.log.error('route table listener failed', { error: err as Error });
    }
  }

  close(): void {
    this.closed = true;
    if (this.pending) clearImmediate(this.pending);
    this.pending = undefined;
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private schedule(): void {
    if (this.pending || this.closed) return;
    this.pending = setImmediate(() => {
      this.pending = undefined;
      this.rebuild();
    });
  }

  private compute(): RouteTable {
    const list = <T>(kind: Kind) => this.informers.informer(kind).list() as unknown as T[];
    return buildRouteTable({
      ingresses: list<Ingress>('Ingress'),
      ingressClasses: list<IngressClass>('IngressClass'),
      services: list<Service>('Service'),
      endpointSlices: this.slicesOf,
      secrets: list<Secret>('Secret').filter((s) => s.type === undefined || s.type === 'kubernetes.io/tls' || s.data?.['tls.crt'] !== undefined),
    });
  }
}

/** The same Ingress (uid) with the same spec and metadata apart from its resourceVersion. */
export function onlyStatusChanged(old: Ingress, cur: Ingress): boolean {
  const { resourceVersion: _a, ...oldMeta } = old.metadata ?? {};
  const { resourceVersion: _b, ...curMeta } = cur.metadata ?? {};
  return JSON.stringify(old.spec) === JSON.stringify(cur.spec) && JSON.stringify(oldMeta) === JSON.stringify(curMeta);
}
