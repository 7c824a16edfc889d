import { describe, expect, it } from 'vitest';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EventRecorder, EventType } from '../../../dataplane/api/events.js';
import { BIND_FAILED_REASON, BindErrorEvents, type ListenerFailure } from '../../../proxy/bind-events.js';
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
    expect(recorded.map((r) => r.message)).toEqual([held.error, held.error, 'cannot bind 127.51.96.69:8080/TCP: ports below 1024 need privilege']);
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
