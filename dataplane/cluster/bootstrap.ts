/**
 * The objects every cluster starts with, as kubeadm + an ingress-nginx install leave them:
 * namespaces, the `kubernetes` and `kube-dns` Services, the ingress controller's Service and
 * the default IngressClass `nginx`.
 *
 * The DNS server and the ingress controller bind their Service addresses themselves (there
 * are no CoreDNS or controller pods to forward to), so their Services carry
 * `service.kubernetes.io/service-proxy-name`, the standard label that tells kube-proxy to
 * leave a Service alone.
 */
import type { KObject } from '../model/object.js';
import type { ClusterConfig } from '../cluster-config.js';
import { loadBalancerAddresses } from '../cluster-config.js';

export const DNS_PROXY_NAME = 'knet-dns';
export const INGRESS_PROXY_NAME = 'knet-ingress';
export const INGRESS_NAMESPACE = 'ingress-nginx';
export const INGRESS_SERVICE = 'ingress-nginx-controller';

export function bootstrapObjects(config: ClusterConfig): KObject[] {
  const ns = (name: string, labels: Record<string, string> = {}): KObject => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
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
      spec: { type: 'ClusterIP', clusterIP: config.kubernetesServiceIP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'kube-dns',
        namespace: 'kube-system',
        labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS', 'service.kubernetes.io/service-proxy-name': DNS_PROXY_NAME },
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
        labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller', 'service.kubernetes.io/service-proxy-name': INGRESS_PROXY_NAME },
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
        annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' },
      },
      spec: { controller: 'k8s.io/ingress-nginx' },
    },
  ];
}
