import { describe, expect, it } from 'vitest';
import type { Service } from 'kubernetes-types/core/v1.js';
import { envVariableName, serviceEnv, serviceVariables } from '../../../dataplane/node/runtime/service-env.js';

function svc(ns: string, name: string, clusterIP: string | undefined, ports: Array<{ port: number; name?: string; protocol?: string }>): Service {
  return { metadata: { namespace: ns, name }, spec: { clusterIP, ports } };
}

describe('serviceVariables', () => {
  it('produces the exact kubelet set for redis-master (reference example)', () => {
    const vars = serviceVariables(svc('default', 'redis-master', '10.0.0.11', [{ port: 6379, name: 'db', protocol: 'TCP' }]));
    expect(vars).toEqual([
      ['REDIS_MASTER_SERVICE_HOST', '10.0.0.11'],
      ['REDIS_MASTER_SERVICE_PORT', '6379'],
      ['REDIS_MASTER_SERVICE_PORT_DB', '6379'],
      ['REDIS_MASTER_PORT', 'tcp://10.0.0.11:6379'],
      ['REDIS_MASTER_PORT_6379_TCP', 'tcp://10.0.0.11:6379'],
      ['REDIS_MASTER_PORT_6379_TCP_PROTO', 'tcp'],
      ['REDIS_MASTER_PORT_6379_TCP_PORT', '6379'],
      ['REDIS_MASTER_PORT_6379_TCP_ADDR', '10.0.0.11'],
    ]);
  });

  it('multi-port: first port is the SERVICE_PORT and PORT, each port gets link variables, protocol defaults to TCP', () => {
    const m = new Map(serviceVariables(svc('default', 'dns', '127.96.0.10', [{ port: 53, name: 'dns' }, { port: 53, name: 'dns-tcp', protocol: 'UDP' }, { port: 9153, name: 'metrics' }])));
    expect(m.get('DNS_SERVICE_PORT')).toBe('53');
    expect(m.get('DNS_SERVICE_PORT_DNS_TCP')).toBe('53');
    expect(m.get('DNS_SERVICE_PORT_METRICS')).toBe('9153');
    expect(m.get('DNS_PORT')).toBe('tcp://127.96.0.10:53');
    expect(m.get('DNS_PORT_53_UDP')).toBe('udp://127.96.0.10:53');
    expect(m.get('DNS_PORT_53_UDP_PROTO')).toBe('udp');
    expect(m.get('DNS_PORT_9153_TCP_ADDR')).toBe('127.96.0.10');
  });

  it('an unnamed single port has no SERVICE_PORT_<NAME>', () => {
    const names = serviceVariables(svc('default', 'web', '127.96.0.20', [{ port: 80 }])).map(([k]) => k);
    expect(names.filter((n) => n.startsWith('WEB_SERVICE_PORT_'))).toEqual([]);
  });

  it.each([
    ['redis-master', 'REDIS_MASTER'],
    ['a.b-c', 'A_B_C'],
    ['9lives', '_9LIVES'],
    ['web', 'WEB'],
  ])('envVariableName(%s) = %s', (name, want) => expect(envVariableName(name)).toBe(want));
});

describe('serviceEnv selection', () => {
  const kubernetes = svc('default', 'kubernetes', '127.96.0.1', [{ port: 443, name: 'https' }]);
  const mine = svc('shop', 'cart', '127.96.0.30', [{ port: 80 }]);
  const other = svc('other', 'billing', '127.96.0.31', [{ port: 80 }]);
  const headless = svc('shop', 'db', 'None', [{ port: 5432 }]);
  const external: Service = { metadata: { namespace: 'shop', name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com', ports: [{ port: 80 }] } };
  const all = [kubernetes, mine, other, headless, external];

  it('includes own-namespace services and kubernetes; excludes other namespaces, headless and ExternalName', () => {
    const env = serviceEnv(all, 'shop', true);
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('127.96.0.1');
    expect(env.get('KUBERNETES_SERVICE_PORT_HTTPS')).toBe('443');
    expect(env.get('CART_SERVICE_HOST')).toBe('127.96.0.30');
    expect(env.has('BILLING_SERVICE_HOST')).toBe(false);
    expect(env.has('DB_SERVICE_HOST')).toBe(false);
    expect(env.has('EXT_SERVICE_HOST')).toBe(false);
  });

  it('enableServiceLinks=false keeps only the kubernetes service', () => {
    const env = serviceEnv(all, 'shop', false);
    expect([...env.keys()].every((k) => k.startsWith('KUBERNETES_'))).toBe(true);
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('127.96.0.1');
  });

  it('a "kubernetes" service in the pod namespace replaces the default one when links are on', () => {
    const own = svc('shop', 'kubernetes', '127.96.0.99', [{ port: 8443 }]);
    expect(serviceEnv([kubernetes, own], 'shop', true).get('KUBERNETES_SERVICE_HOST')).toBe('127.96.0.99');
    expect(serviceEnv([own, kubernetes], 'shop', true).get('KUBERNETES_SERVICE_HOST')).toBe('127.96.0.99');
    expect(serviceEnv([kubernetes, own], 'shop', false).get('KUBERNETES_SERVICE_HOST')).toBe('127.96.0.1');
  });

  it('in the default namespace, default services are included', () => {
    const web = svc('default', 'web', '127.96.0.5', [{ port: 80 }]);
    expect(serviceEnv([kubernetes, web], 'default', true).get('WEB_SERVICE_HOST')).toBe('127.96.0.5');
  });
});
