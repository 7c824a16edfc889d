import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ndotsOf, parseResolvConf, podResolvConf, renderResolvConf } from '../../../dataplane/node/shell/resolv-conf.js';
import { lookupHostsFile, podHostsFile } from '../../../dataplane/node/shell/etc-hosts.js';

const cluster = { clusterDomain: 'cluster.local', dnsServiceIP: '127.96.0.10' };
const node = parseResolvConf('# host\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch corp.example lab.example\noptions timeout:2 rotate\n');
const pod = (spec: Partial<NonNullable<Pod['spec']>> = {}, ns = 'shop'): Pod => ({ metadata: { name: 'web-0', namespace: ns }, spec: { containers: [], ...spec } });
const render = (p: Pod) => renderResolvConf(podResolvConf(p, cluster, node));

describe('a pod resolv.conf', () => {
  it('ClusterFirst: the cluster DNS, the namespace search path with the node search domains after it, ndots:5', () => {
    expect(render(pod())).toBe('search shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\nnameserver 127.96.0.10\noptions ndots:5\n');
  });
  it('Default: the node resolv.conf', () => {
    expect(render(pod({ dnsPolicy: 'Default' }))).toBe('search corp.example lab.example\nnameserver 10.0.0.2\nnameserver 10.0.0.3\noptions timeout:2 rotate\n');
  });
  it('hostNetwork turns ClusterFirst into Default; ClusterFirstWithHostNet keeps the cluster DNS', () => {
    expect(render(pod({ hostNetwork: true }))).toContain('nameserver 10.0.0.2');
    expect(render(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }))).toContain('nameserver 127.96.0.10');
  });
  it('None: only dnsConfig', () => {
    expect(render(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.2.3.4'], searches: ['a.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } }))).toBe(
      'search a.example\nnameserver 1.2.3.4\noptions ndots:2 edns0\n',
    );
  });
  it('dnsConfig merges in: servers and searches appended once, an option of the same name replaced', () => {
    const conf = podResolvConf(pod({ dnsConfig: { nameservers: ['127.96.0.10', '9.9.9.9'], searches: ['cluster.local', 'x.example'], options: [{ name: 'ndots', value: '1' }] } }), cluster, node);
    expect(conf.nameservers).toEqual(['127.96.0.10', '9.9.9.9']);
    expect(conf.searches).toEqual(['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example', 'x.example']);
    expect(conf.options).toEqual(['ndots:1']);
  });
  it('applies the kubelet limits: 3 nameservers, 32 search domains', () => {
    const many = podResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'], searches: Array.from({ length: 40 }, (_, i) => `d${i}.example`) } }), cluster, node);
    expect(many.nameservers).toHaveLength(3);
    expect(many.searches).toHaveLength(32);
  });
  it('reads ndots (1 when absent) and the last search line', () => {
    expect(ndotsOf(parseResolvConf('options ndots:5 timeout:1'))).toBe(5);
    expect(ndotsOf(parseResolvConf('nameserver 1.1.1.1'))).toBe(1);
    expect(parseResolvConf('search a b\ndomain c\n').searches).toEqual(['c']);
  });
});

describe('a pod /etc/hosts', () => {
  it('is the kubelet file: loopback lines, the pod line, host aliases', () => {
    expect(podHostsFile(pod({ hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.local', 'bar'] }] }), ['127.244.1.5'], 'cluster.local')).toBe(
      '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n127.244.1.5\tweb-0\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar\n',
    );
  });
  it('names the FQDN first when the pod has a subdomain, with spec.hostname', () => {
    const text = podHostsFile(pod({ hostname: 'db', subdomain: 'dbs' }), ['127.244.1.5'], 'cluster.local');
    expect(text).toContain('127.244.1.5\tdb.dbs.shop.svc.cluster.local\tdb\n');
  });
  it('answers lookups case-insensitively, IPv4 first', () => {
    const text = podHostsFile(pod({ hostAliases: [{ ip: '10.1.2.3', hostnames: ['Foo.Local'] }] }), ['127.244.1.5'], 'cluster.local');
    expect(lookupHostsFile(text, 'foo.local')).toEqual(['10.1.2.3']);
    expect(lookupHostsFile(text, 'localhost')).toEqual(['127.0.0.1', '::1']);
    expect(lookupHostsFile(text, 'web-0.')).toEqual(['127.244.1.5']);
    expect(lookupHostsFile(text, 'nope')).toEqual([]);
  });
});
