import { describe, expect, it } from 'vitest';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EventRecorder, EventType } from '../../../dataplane/base/admission/events.js';
import { BIND_FAILED_REASON, BIND_RECOVERED_REASON, BindErrorEvents, standingBindFailures, type BindEventLike, type ListenerFailure } from '../../../proxy/bind-events.js';
import { svc } from './fixtures.js';

function rig(services: Service[]) {
  const recorded: Array<{ name?: string; type: EventType; reason: string; message: string }> = [];
  const recorder: EventRecorder = {
    record: (o, type, reason, message) => recorded.push({ name: o.metadata?.name, type, reason, message }),
    flush: async () => {},
  };
  const events = new BindErrorEvents(recorder, (nsName) => services.find((s) => `${s.metadata?.namespace}/${s.metadata?.name}` === nsName));
  return { recorded, events };
}

const held: ListenerFailure = { id: 'TCP/127.51.96.69:8080', service: 'default/blocked', error: 'cannot bind 127.51.96.69:8080/TCP: another program holds it. Fix: …' };

describe('bind failures as Warning events on the Service', () => {
  it('reports a failure once, however often it is retried', () => {
    const { recorded, events } = rig([svc('blocked', {})]);
    events.update([held]);
    events.update([held]);
    // A retry in flight: the listener is binding again, so it is not in the failures.
    events.update([], new Set([held.id]));
    events.update([held]);
    expect(recorded).toEqual([{ name: 'blocked', type: 'Warning', reason: BIND_FAILED_REASON, message: held.error }]);
  });

  it('reports again when a failure clears and comes back, or its reason changes', () => {
    const { recorded, events } = rig([svc('blocked', {})]);
    events.update([held]);
    events.update([]);
    events.update([held]);
    events.update([{ ...held, error: 'cannot bind 127.51.96.69:8080/TCP: ports below 1024 need privilege' }]);
    expect(recorded.map((r) => [r.reason, r.message])).toEqual([
      [BIND_FAILED_REASON, held.error],
      [BIND_RECOVERED_REASON, 'every listener of the Service is serving'],
      [BIND_FAILED_REASON, held.error],
      [BIND_FAILED_REASON, 'cannot bind 127.51.96.69:8080/TCP: ports below 1024 need privilege'],
    ]);
  });

  it('tells of the recovery only once every listener of the Service serves', () => {
    const { recorded, events } = rig([svc('blocked', {})]);
    const other: ListenerFailure = { ...held, id: 'UDP/127.51.96.69:8080', error: 'udp too' };
    events.update([held, other]);
    events.update([other]);
    expect(recorded.map((r) => r.reason)).toEqual([BIND_FAILED_REASON, BIND_FAILED_REASON]);
    events.update([]);
    expect(recorded.map((r) => r.reason)).toEqual([BIND_FAILED_REASON, BIND_FAILED_REASON, BIND_RECOVERED_REASON]);
  });

  it('names each service of an address claimed twice, and skips services already deleted', () => {
    const { recorded, events } = rig([svc('a', {}), svc('b', {})]);
    events.update([
      { id: 'TCP/127.51.96.1:80', service: 'default/a', error: 'x' },
      { id: 'TCP/127.51.96.1:80', service: 'default/b', error: 'y' },
      { id: 'TCP/127.51.96.2:80', service: 'default/gone', error: 'z' },
    ]);
    expect(recorded.map((r) => [r.name, r.message])).toEqual([
      ['a', 'x'],
      ['b', 'y'],
    ]);
  });
});

describe('standing bind failures, as knet get svc shows them', () => {
  const ev = (name: string, reason: string, at: string, message = `${reason} ${at}`): BindEventLike => ({ reason, message, lastTimestamp: at, involvedObject: { kind: 'Service', namespace: 'default', name } });
  const table: Array<[string, BindEventLike[], Record<string, string[]>]> = [
    ['no events', [], {}],
    ['a failure', [ev('a', BIND_FAILED_REASON, '2026-01-01T00:00:01Z', 'held')], { 'default/a': ['held'] }],
    ['a failure then its recovery', [ev('a', BIND_FAILED_REASON, '2026-01-01T00:00:01Z'), ev('a', BIND_RECOVERED_REASON, '2026-01-01T00:00:02Z')], {}],
    ['recovered, then failed again', [ev('a', BIND_RECOVERED_REASON, '2026-01-01T00:00:02Z'), ev('a', BIND_FAILED_REASON, '2026-01-01T00:00:03Z', 'again')], { 'default/a': ['again'] }],
    ['per service', [ev('a', BIND_FAILED_REASON, '2026-01-01T00:00:01Z', 'x'), ev('b', BIND_RECOVERED_REASON, '2026-01-01T00:00:02Z'), ev('b', BIND_FAILED_REASON, '2026-01-01T00:00:01Z')], { 'default/a': ['x'] }],
    ['other reasons and kinds ignored', [{ ...ev('a', BIND_FAILED_REASON, '2026-01-01T00:00:01Z'), involvedObject: { kind: 'Pod', name: 'a' } }, ev('a', 'Unhealthy', '2026-01-01T00:00:01Z')], {}],
  ];
  it.each(table)('%s', (_name, events, want) => {
    expect(Object.fromEntries(standingBindFailures(events))).toEqual(want);
  });
});
