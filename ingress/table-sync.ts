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
import type { InformerFactory } from '../dataplane/informer-types.js';
import type { Kind } from '../dataplane/model/object.js';
import type { Logger } from '../dataplane/log.js';
import { buildRouteTable, type RouteTable } from './route-table.js';

const WATCHED: Kind[] = ['Ingress', 'IngressClass', 'Service', 'EndpointSlice', 'Secret'];

export class TableSync {
  private table: RouteTable;
  private pending: NodeJS.Immediate | undefined;
  private readonly unsubscribe: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly informers: InformerFactory,
    private readonly log: Logger,
    private readonly onTable: (table: RouteTable) => void,
  ) {
    this.table = this.compute();
  }

  /** Subscribes, waits for the first list of every kind, and builds the first table. */
  async start(): Promise<void> {
    for (const kind of WATCHED) {
      const handler = () => this.schedule();
      this.unsubscribe.push(this.informers.informer(kind).on({ add: handler, update: handler, delete: handler }));
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
      endpointSlices: list<EndpointSlice>('EndpointSlice'),
      secrets: list<Secret>('Secret').filter((s) => s.type === undefined || s.type === 'kubernetes.io/tls' || s.data?.['tls.crt'] !== undefined),
    });
  }
}
