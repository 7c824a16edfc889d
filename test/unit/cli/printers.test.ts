import { describe, expect, it } from 'vitest';
import { printTable, servicePorts } from '../../../dataplane/cli/printers.js';

describe('kubectl-style printers', () => {
  it('prints service ports as kubectl, and the DNS fallback port where it serves', () => {
    expect(servicePorts({ spec: { ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 80, nodePort: 30080, protocol: 'UDP' }] } })).toBe('80:30080/TCP,80:30080/UDP');
    const dns = { metadata: { annotations: { 'knet.dev/dns-port': '5353' } }, spec: { ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }, { port: 9153, protocol: 'TCP' }] } };
    expect(servicePorts(dns)).toBe('53/UDP→5353,53/TCP→5353,9153/TCP');
    expect(servicePorts({ ...dns, metadata: { annotations: { 'knet.dev/dns-port': '53' } } })).toBe('53/UDP,53/TCP,9153/TCP');
  });

  it('pads columns like kubectl and adds NAMESPACE with -A', () => {
    const table = printTable('Namespace', [{ metadata: { name: 'default', creationTimestamp: new Date().toISOString() } }], { allNamespaces: false });
    expect(table.split('\n')[0]).toBe('NAME      STATUS   AGE');
    expect(table.split('\n')[1]).toMatch(/^default   Active   \d+s$/);
  });
});
