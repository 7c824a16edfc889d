/**
 * The apiserver's DefaultIngressClass admission plugin
 * (kubernetes plugin/pkg/admission/network/defaultingressclass/admission.go), pure:
 *
 * - it runs on **create** only; an update never gains (or loses) a class this way;
 * - an Ingress that has `spec.ingressClassName`, or the deprecated `kubernetes.io/ingress.class`
 *   annotation with any value (empty included), is left alone;
 * - otherwise it gets the name of the default IngressClass: one annotated
 *   `ingressclass.kubernetes.io/is-default-class: "true"` (exactly "true"); with several, the
 *   newest by creationTimestamp, ties broken by name (older API servers refused the create
 *   instead: "N default IngressClasses were found, only 1 allowed");
 * - with no default IngressClass nothing changes.
 *
 * apply.ts calls it for every Ingress it creates, with the IngressClasses in the store and
 * those written earlier in the same apply, so every writer gets it.
 */
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import { ANNOTATION_DEFAULT_INGRESS_CLASS, ANNOTATION_INGRESS_CLASS } from '../model/well-known.js';
import { newestDefault } from './default-class.js';

/** The default IngressClass among `classes`, as the plugin's getDefaultClass picks it. */
export function defaultIngressClass(classes: Iterable<IngressClass>): IngressClass | undefined {
  return newestDefault(classes, (c) => c.metadata?.annotations?.[ANNOTATION_DEFAULT_INGRESS_CLASS] === 'true');
}

/** Whether the plugin would look for a default class for this Ingress on create. */
export function wantsDefaultClass(ingress: Ingress): boolean {
  if (ingress.spec?.ingressClassName != null) return false;
  const annotations = ingress.metadata?.annotations;
  return !(annotations && Object.hasOwn(annotations, ANNOTATION_INGRESS_CLASS));
}

/** The Ingress to create: with the default class's name when the plugin would set it. */
export function admitDefaultIngressClass(ingress: Ingress, classes: Iterable<IngressClass>): Ingress {
  if (!wantsDefaultClass(ingress)) return ingress;
  const name = defaultIngressClass(classes)?.metadata?.name;
  if (!name) return ingress;
  return { ...ingress, spec: { ...ingress.spec, ingressClassName: name } };
}
