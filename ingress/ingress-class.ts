/**
 * Which Ingresses are ours. ingress-nginx serves an Ingress whose `ingressClassName` names
 * an IngressClass with controller `k8s.io/ingress-nginx`, or whose legacy
 * `kubernetes.io/ingress.class` annotation is `nginx`. An Ingress with neither is normally
 * given the default class by the API server's DefaultIngressClass admission plugin on
 * create; knet's store may not do that, so we apply the same rule when reading: a
 * classless Ingress is ours when the default IngressClass (newest default, ties by name,
 * as newer API servers pick) is one of ours.
 */
import type { IngressClass, Ingress } from 'kubernetes-types/networking/v1.js';

export const CONTROLLER_NAME = 'k8s.io/ingress-nginx';
export const INGRESS_CLASS_NAME = 'nginx';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** The IngressClass an ingress-nginx install creates (and knet creates at `knet up`). */
export function nginxIngressClass(): IngressClass {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: {
      name: INGRESS_CLASS_NAME,
      labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' },
      annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' },
    },
    spec: { controller: CONTROLLER_NAME },
  };
}

export interface ClassSelector {
  /** Names of IngressClasses whose controller is ours. */
  ours: Set<string>;
  /** The default IngressClass's name, if any is marked default. */
  defaultClass?: string;
}

export function classSelector(classes: readonly IngressClass[], controller = CONTROLLER_NAME): ClassSelector {
  const ours = new Set<string>();
  let best: IngressClass | undefined;
  for (const c of classes) {
    const name = c.metadata?.name;
    if (!name) continue;
    if (c.spec?.controller === controller) ours.add(name);
    if (c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] !== 'true') continue;
    if (!best || newer(c, best)) best = c;
  }
  const sel: ClassSelector = { ours };
  if (best?.metadata?.name) sel.defaultClass = best.metadata.name;
  return sel;
}

function newer(a: IngressClass, b: IngressClass): boolean {
  const ta = Date.parse(a.metadata?.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta > tb;
  return (a.metadata?.name ?? '') < (b.metadata?.name ?? '');
}

/** Is this Ingress served by us? Returns the reason when it is not (for `describe`). */
export function isOurIngress(ing: Ingress, sel: ClassSelector): boolean {
  const className = ing.spec?.ingressClassName;
  if (className) return sel.ours.has(className);
  const legacy = ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (legacy !== undefined) return legacy === INGRESS_CLASS_NAME;
  return sel.defaultClass !== undefined && sel.ours.has(sel.defaultClass);
}
