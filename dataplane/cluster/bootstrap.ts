/**
 * The objects every cluster starts with, as kubeadm + an ingress-nginx install leave them:
 * namespaces, the `kubernetes` and `kube-dns` Services, the ingress controller's Service and
 * the default IngressClass `nginx` — and, as kind's local-path provisioner install leaves it,
 * the default StorageClass `standard` (WaitForFirstConsumer, reclaim Delete), whose
 * provisioner is knet's own (controllers/local-path-provisioner.ts).
 *
 * The DNS server and the ingress controller bind their Service addresses themselves (there
 * are no CoreDNS or controller pods to forward to), so their Services carry
 * `service.kubernetes.io/service-proxy-name`, the standard label that tells kube-proxy to
 * leave a Service alone.
 */
import type { AnyObject } from '../base/model/object.js';
import type { ClusterConfig } from '../base/cluster-config.js';
import { loadBalancerAddresses } from '../base/cluster-config.js';
import { ANNOTATION_DEFAULT_INGRESS_CLASS, ANNOTATION_DEFAULT_STORAGE_CLASS, LABEL_METADATA_NAME, LABEL_SERVICE_PROXY_NAME, LOCAL_PATH_PROVISIONER } from '../base/model/well-known.js';

export const DNS_PROXY_NAME = 'knet-dns';
export const INGRESS_PROXY_NAME = 'knet-ingress';
export const INGRESS_NAMESPACE = 'ingress-nginx';
export const INGRESS_SERVICE = 'ingress-nginx-controller';

/**
 * Whether kubeadm or the apiserver makes this object (created plainly, without kubectl's
 * last-applied annotation), rather than the ingress-nginx install (`kubectl apply -f deploy.yaml`).
 */
export function madeByControlPlane(o: AnyObject): boolean {
  if (o.kind === 'IngressClass' || o.kind === 'StorageClass') return false;
  if (o.kind === 'Namespace') return o.metadata?.name !== INGRESS_NAMESPACE;
  return o.metadata?.namespace !== INGRESS_NAMESPACE;
}

export function bootstrapObjects(config: ClusterConfig): AnyObject[] {
  const ns = (name: string, labels: Record<string, string> = {}): AnyObject => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { [LABEL_METADATA_NAME]: name, ...labels } },
  });
  return [
    ns('default'),
    ns('kube-system'),
    ns('kube-public'),
    ns('kube-node-lease'),
    ns(INGRESS_NAMESPACE, { 'app.kubernetes.io/name': 'ingress-nginx' }),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: config.kubernetesServiceIP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: config.apiServerPort }] },
    },
    // The apiserver's endpoint, written by hand as the apiserver's endpoint reconciler writes it:
    // kube-proxy forwards the `kubernetes` ClusterIP to it like any Service.
    {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [{ ip: config.apiServerAddress }], ports: [{ name: 'https', port: config.apiServerPort, protocol: 'TCP' }] }],
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [config.apiServerAddress], conditions: { ready: true, serving: true, terminating: false } }],
      ports: [{ name: 'https', port: config.apiServerPort, protocol: 'TCP' }],
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'kube-dns',
        namespace: 'kube-system',
        labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS', [LABEL_SERVICE_PROXY_NAME]: DNS_PROXY_NAME },
        annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
      },
      spec: {
        type: 'ClusterIP',
        clusterIP: config.dnsServiceIP,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: INGRESS_SERVICE,
        namespace: INGRESS_NAMESPACE,
        labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller', [LABEL_SERVICE_PROXY_NAME]: INGRESS_PROXY_NAME },
      },
      spec: {
        type: 'LoadBalancer',
        loadBalancerIP: loadBalancerAddresses(config)[0],
        ports: [
          { name: 'http', port: 80, protocol: 'TCP', targetPort: 'http', appProtocol: 'http' },
          { name: 'https', port: 443, protocol: 'TCP', targetPort: 'https', appProtocol: 'https' },
        ],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: {
        name: 'nginx',
        labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' },
        annotations: { [ANNOTATION_DEFAULT_INGRESS_CLASS]: 'true' },
      },
      spec: { controller: 'k8s.io/ingress-nginx' },
    },
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'standard', annotations: { [ANNOTATION_DEFAULT_STORAGE_CLASS]: 'true' } },
      provisioner: LOCAL_PATH_PROVISIONER,
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
    },
  ];
}
