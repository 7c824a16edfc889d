/**
 * The root CA publisher (kube-controller-manager's `root-ca-cert-publisher`,
 * pkg/controller/certificates/rootcacertpublisher/publisher.go): every namespace that is not
 * terminating has a ConfigMap `kube-root-ca.crt` whose `ca.crt` is the cluster CA, so pods can
 * verify the apiserver (the `kube-api-access-*` volume projects it). A ConfigMap changed or
 * deleted by someone else is put back.
 */
import type { ConfigMap, Namespace } from 'kubernetes-types/core/v1.js';
import type { Controller, ControllerContext } from './controller-context.js';
import { StoreError } from '../base/store/errors.js';
import { WorkQueue } from '../base/work-queue.js';
import { ROOT_CA_CONFIGMAP, ROOT_CA_KEY } from '../base/admission/service-account.js';
import { isActiveNamespace } from './serviceaccounts.js';
import { isNamespaceTerminating } from '../base/admission/write-plan.js';

export const ROOT_CA_DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
/** Upstream's annotation text, word for word. */
export const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/** The ConfigMap as it should be in `namespace` (a new object), or undefined when `current` already is. */
export function desiredRootCA(namespace: string, caCert: string, current: ConfigMap | undefined): ConfigMap | undefined {
  const data = { [ROOT_CA_KEY]: caCert };
  if (current && sameData(current.data, data) && current.metadata?.annotations?.[ROOT_CA_DESCRIPTION_ANNOTATION] === ROOT_CA_DESCRIPTION) return undefined;
  return {
    ...(current ?? { apiVersion: 'v1', kind: 'ConfigMap' }),
    metadata: {
      ...(current?.metadata ?? { name: ROOT_CA_CONFIGMAP, namespace }),
      annotations: { ...current?.metadata?.annotations, [ROOT_CA_DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION },
    },
    data,
  };
}

function sameData(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => a![k] === b[k]);
}

/** `caCert`: the cluster CA in PEM, read when needed (undefined: none known, nothing is published). */
export function startRootCAPublisher(ctx: ControllerContext, caCert: () => string | undefined): Controller {
  const log = ctx.log.child('root-ca-cert-publisher');
  const namespaces = ctx.informers.informer<Namespace>('Namespace');
  const configMaps = ctx.informers.informer<ConfigMap>('ConfigMap');
  const queue = new WorkQueue('root-ca-cert-publisher', reconcile, { log, concurrency: 2 });
  const ours = (cm: ConfigMap) => cm.metadata?.name === ROOT_CA_CONFIGMAP;
  const unsubscribe = [
    namespaces.on({ add: (n) => queue.add(n.metadata?.name ?? ''), update: (_o, n) => queue.add(n.metadata?.name ?? '') }),
    configMaps.on({ update: (_o, cm) => ours(cm) && queue.add(cm.metadata?.namespace ?? ''), delete: (cm) => ours(cm) && queue.add(cm.metadata?.namespace ?? '') }),
  ];
  let warned = false;

  async function reconcile(name: string) {
    const expectKey = `rootca/${name}`;
    if (!ctx.writes.expectations.satisfied(expectKey)) return { requeueAfterMs: ctx.writes.expectations.remainingMs(expectKey) + 10 };
    if (!isActiveNamespace(namespaces.get(undefined, name))) return undefined;
    const ca = caCert();
    if (!ca) {
      if (!warned) log.warn('no cluster CA to publish: pods wait for the kube-root-ca.crt ConfigMap (is the cluster PKI in the state dir?)');
      warned = true;
      return { requeueAfterMs: 1000 };
    }
    const current = configMaps.get(name, ROOT_CA_CONFIGMAP);
    const want = desiredRootCA(name, ca, current);
    if (!want) return undefined;
    try {
      if (!current) await ctx.writes.create(expectKey, want);
      else await ctx.writes.mutate<ConfigMap>(expectKey, 'ConfigMap', name, ROOT_CA_CONFIGMAP, (cm) => desiredRootCA(name, ca, cm));
    } catch (err) {
      if (isNamespaceTerminating(err)) return undefined; // the namespace is being deleted: nothing to publish
      if (!(err instanceof StoreError && (err.reason === 'AlreadyExists' || err.reason === 'NotFound'))) throw err;
      queue.addAfter(name, 50);
    }
    return undefined;
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      await queue.close();
    },
  };
}
