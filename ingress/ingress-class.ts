/**
 * Which Ingresses are ours, as ingress-nginx decides it (internal/ingress/controller/store):
 * an Ingress whose `ingressClassName` names an IngressClass with controller
 * `k8s.io/ingress-nginx`, or whose legacy `kubernetes.io/ingress.class` annotation is `nginx`.
 * One with neither is not served (ingress-nginx serves those only with
 * `--watch-ingress-without-class`). ingress-nginx never reads `is-default-class`: the API
 * server's DefaultIngressClass admission fills `ingressClassName` on create, which knet's
 * apply does too (dataplane/base/admission/default-ingress-class.ts).
 */
import type { IngressClass, Ingress } from 'kubernetes-types/networking/v1.js';
import { ANNOTATION_DEFAULT_INGRESS_CLASS, ANNOTATION_INGRESS_CLASS } from '../dataplane/base/model/well-known.js';

export const CONTROLLER_NAME = 'k8s.io/ingress-nginx';
export const INGRESS_CLASS_NAME = 'nginx';

/** The IngressClass an ingress-nginx install creates (and knet creates at `knet up`). */
export function nginxIngressClass(): IngressClass {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: {
      name: INGRESS_CLASS_NAME,
      labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' },
      annotations: { [ANNOTATION_DEFAULT_INGRESS_CLASS]: 'true' },
    },
    spec: { controller: CONTROLLER_NAME },
  };
}

export interface ClassSelector {
  /** Names of IngressClasses whose controller is ours. */
  ours: Set<string>;
}

export function classSelector(classes: readonly IngressClass[], controller = CONTROLLER_NAME): ClassSelector {
  const ours = new Set<string>();
  for (const c of classes) {
    const name = c.metadata?.name;
    if (name && c.spec?.controller === controller) ours.add(name);
  }
  return { ours };
}

/** Is this Ingress served by us? */
export function isOurIngress(ing: Ingress, sel: ClassSelector): boolean {
  const className = ing.spec?.ingressClassName;
  if (className) return sel.ours.has(className);
  const legacy = ing.metadata?.annotations?.[ANNOTATION_INGRESS_CLASS];
  return legacy === INGRESS_CLASS_NAME;
}
