/**
 * agnhost netexec servers, the upstream e2e tests' image, as YAML manifests: a Deployment (or a
 * StatefulSet) serving HTTP on a port named `http` (8080; /hostname, /clientip, /healthz), UDP
 * 8081 on request, and the Service in front of it.
 *
 *   startCluster({ manifests: agnhostWeb({ name: 'web' }) })          // Deployment + Service web
 *   agnhostWorkload({ name: 'web', replicas: 3, udp: true, readiness: true })
 */

export const AGNHOST_IMAGE = 'registry.k8s.io/e2e-test-images/agnhost:2.53';

export interface AgnhostOptions {
  name: string;
  namespace?: string;
  /** A StatefulSet (serviceName: its name) instead of a Deployment. */
  statefulSet?: boolean;
  replicas?: number;
  /** The pods' labels and the selector; default { app: name }. */
  labels?: Record<string, string>;
  /** Pin the pods to a node (spec.nodeSelector on kubernetes.io/hostname). */
  node?: string;
  /** Default: netexec on HTTP 8080, and on UDP 8081 with `udp`. */
  args?: string[];
  /** A UDP port 8081 named udp. */
  udp?: boolean;
  /** Ready once GET /healthz on the http port answers, probed every second. */
  readiness?: boolean;
}

export function agnhostWorkload(o: AgnhostOptions): string {
  const labels = o.labels ?? { app: o.name };
  const labelText = Object.entries(labels).map(([k, v]) => `${k}: ${v}`).join(', ');
  const args = JSON.stringify(o.args ?? ['netexec', '--http-port=8080', ...(o.udp ? ['--udp-port=8081'] : [])]);
  return `apiVersion: apps/v1
kind: ${o.statefulSet ? 'StatefulSet' : 'Deployment'}
metadata: { name: ${o.name}${namespaceField(o.namespace)} }
spec:
${o.statefulSet ? `  serviceName: ${o.name}\n` : ''}  replicas: ${o.replicas ?? 1}
  selector: { matchLabels: { ${labelText} } }
  template:
    metadata: { labels: { ${labelText} } }
    spec:
${o.node ? `      nodeSelector: { kubernetes.io/hostname: ${o.node} }\n` : ''}      containers:
      - name: agnhost
        image: ${AGNHOST_IMAGE}
        args: ${args}
        ports:
        - { name: http, containerPort: 8080 }
${o.udp ? '        - { name: udp, containerPort: 8081, protocol: UDP }\n' : ''}${
    o.readiness
      ? `        readinessProbe:
          httpGet: { path: /healthz, port: http }
          periodSeconds: 1
`
      : ''
  }`;
}

/** A ClusterIP Service `name` selecting app: name, port 80 to the pods' http port. */
export function agnhostService(name: string, namespace?: string): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}${namespaceField(namespace)} }
spec:
  selector: { app: ${name} }
  ports: [{ port: 80, targetPort: http }]
`;
}

/** A Deployment of agnhost and its Service, both called o.name. */
export function agnhostWeb(o: AgnhostOptions): string {
  return `${agnhostWorkload(o)}---\n${agnhostService(o.name, o.namespace)}`;
}

function namespaceField(namespace: string | undefined): string {
  return namespace ? `, namespace: ${namespace}` : '';
}
