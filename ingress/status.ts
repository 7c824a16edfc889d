/**
 * `status.loadBalancer.ingress` for the Ingresses we serve, as ingress-nginx's status sync
 * writes it (internal/ingress/status): the address of the controller's LoadBalancer
 * Service, on every Ingress of our class and on no other. Pure: the caller writes it.
 */
import type { Ingress, IngressStatus } from 'kubernetes-types/networking/v1.js';
import type { RouteTable } from './route-table.js';

export interface DesiredStatus {
  namespace: string;
  name: string;
  status: IngressStatus;
}

/**
 * The status each of our Ingresses should have. Refused Ingresses are not in ingress-nginx's
 * store at all, so they get none (an empty list), like an Ingress of another class.
 */
export function ingressStatuses(table: RouteTable, address: string): DesiredStatus[] {
  return table.ingresses.filter((r) => r.served).map((r) => ({ namespace: r.namespace, name: r.name, status: servedStatus(address) }));
}

/** The status of an Ingress we serve: the controller's address, as an ip or a hostname. */
export function servedStatus(address: string): IngressStatus {
  const entry = /^\d{1,3}(\.\d{1,3}){3}$/.test(address) || address.includes(':') ? { ip: address } : { hostname: address };
  return { loadBalancer: { ingress: [entry] } };
}

/** Does an Ingress already carry this status (so no write is needed)? */
export function statusUpToDate(ing: Ingress, status: IngressStatus): boolean {
  return JSON.stringify(ing.status?.loadBalancer?.ingress ?? []) === JSON.stringify(status.loadBalancer?.ingress ?? []);
}
