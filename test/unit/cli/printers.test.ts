import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { printTable } from '../../../dataplane/base/printers/text-table.js';
import { servicePorts } from '../../../dataplane/base/printers/service-cells.js';

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

describe('events as printers.go prints them', () => {
  // The clock stands still at NOW: ages are computed when a row is printed, and a busy machine
  // could otherwise move "10s" to "11s" between building the events and printing them.
  const NOW = Date.parse('2026-06-01T12:00:00Z');
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => vi.useRealTimers());
  const ago = (s: number) => new Date(NOW - s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const kubelet = {
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'web-1.1', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{web}' },
    type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container ',
    count: 4, firstTimestamp: ago(300), lastTimestamp: ago(10), source: { component: 'kubelet', host: 'node-1' }, reportingComponent: 'kubelet', reportingInstance: 'node-1',
  };
  const scheduler = {
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'web-1.0', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web-1' },
    type: 'Normal', reason: 'Scheduled', message: 'Successfully assigned default/web-1 to node-1', action: 'Binding',
    eventTime: new Date(NOW - 400_000).toISOString().replace('Z', '000Z'), source: {}, reportingComponent: 'default-scheduler', reportingInstance: 'default-scheduler-host',
  };

  it('LAST SEEN from eventTime for the scheduler events.k8s.io events (no lastTimestamp), message trimmed', () => {
    const rows = printTable('Event', [scheduler, kubelet], {}).split('\n');
    expect(rows[1]).toMatch(/^6m40s\s+Normal\s+Scheduled\s+pod\/web-1\s+Successfully assigned default\/web-1 to node-1$/);
    expect(rows[2]).toMatch(/^10s\s+Warning\s+BackOff\s+pod\/web-1\s+Back-off restarting failed container$/);
  });

  it('-o wide: SUBOBJECT, SOURCE as component and host (reportingController and instance when source is empty), FIRST SEEN, COUNT', () => {
    const rows = printTable('Event', [scheduler, kubelet], { wide: true }).split('\n');
    expect(rows[0]).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+SUBOBJECT\s+SOURCE\s+MESSAGE\s+FIRST SEEN\s+COUNT\s+NAME$/);
    expect(rows[1]).toMatch(/default-scheduler, default-scheduler-host\s+Successfully assigned default\/web-1 to node-1\s+6m40s\s+1\s+web-1\.0$/);
    expect(rows[2]).toMatch(/spec\.containers\{web\}\s+kubelet, node-1\s+.*\s+5m\s+4\s+web-1\.1$/);
  });

  it('a series gives the count and last seen', () => {
    const series = { ...scheduler, type: 'Warning', reason: 'FailedScheduling', series: { count: 7, lastObservedTime: new Date(NOW - 5000).toISOString().replace('Z', '000Z') } };
    expect(printTable('Event', [series], { wide: true }).split('\n')[1]).toMatch(/^5s\s+Warning\s+FailedScheduling.*\s+6m40s\s+7\s+web-1\.0$/);
  });
});
