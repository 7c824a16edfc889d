/**
 * The two event recorders against a real Redis: the Events they store are shaped as a real
 * cluster's (client-go's tools/record for the kubelet and controllers, tools/events for the
 * scheduler), named so the store's order is time order, and repeats counted as upstream does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from 'kubernetes-types/core/v1.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { connectRedis } from '../../dataplane/base/store/redis-connection.js';
import { ObjectStore } from '../../dataplane/base/store/object-store.js';
import { createEventRecorder, createEventsV1Recorder, eventName } from '../../dataplane/base/admission/events.js';
import type { KObject } from '../../dataplane/base/model/object.js';

let redis: TestRedis;
let store: ObjectStore;

beforeAll(async () => {
  redis = await startTestRedis();
  store = new ObjectStore(connectRedis(redis.url), 'events');
});
afterAll(async () => {
  await store?.close();
  await redis?.cleanup();
});

const pod = (name: string): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '42' } });

async function eventsOf(name: string): Promise<Event[]> {
  return ((await store.list('Event', 'default')).items as unknown as Event[]).filter((e) => e.involvedObject.name === name);
}

describe('event recorders', () => {
  it("the kubelet's events: source kubelet on its node, the container's fieldPath, the pod's reference", async () => {
    const kubelet = createEventRecorder(store, { component: 'kubelet', host: 'node-1' });
    kubelet.record(pod('a'), 'Normal', 'Pulled', 'Container image "nginx" already present on machine', { fieldPath: 'spec.containers{web}' });
    await kubelet.flush();
    const [e] = await eventsOf('a');
    expect(e).toMatchObject({
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: 'a', namespace: 'default', uid: 'uid-a', resourceVersion: '42', fieldPath: 'spec.containers{web}' },
      source: { component: 'kubelet', host: 'node-1' },
      reportingComponent: 'kubelet',
      reportingInstance: 'node-1',
      type: 'Normal',
      reason: 'Pulled',
      count: 1,
    });
    expect(e!.firstTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(e!.lastTimestamp).toBe(e!.firstTimestamp);
    expect(e!.metadata?.name).toMatch(/^a\.[0-9a-f]{15,}$/);
    expect(e!.metadata).not.toHaveProperty('generation');
  });

  it('a repeat bumps count on the one Event; a controller reports under its own name with an empty instance', async () => {
    const rs = createEventRecorder(store, { component: 'replicaset-controller' });
    for (let i = 0; i < 3; i++) rs.record(pod('b'), 'Warning', 'FailedCreate', 'Error creating: quota');
    await rs.flush();
    const events = await eventsOf('b');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ count: 3, source: { component: 'replicaset-controller' }, reportingComponent: 'replicaset-controller', reportingInstance: '' });
    expect(events[0]!.source).not.toHaveProperty('host');
  });

  it("the scheduler's events are events.k8s.io's: eventTime in microseconds, action, no count; a repeat is a series", async () => {
    const scheduler = createEventsV1Recorder(store, { controller: 'default-scheduler', instance: 'default-scheduler-host' });
    scheduler.record(pod('c'), 'Normal', 'Scheduled', 'Successfully assigned default/c to node-1', { action: 'Binding' });
    scheduler.record(pod('d'), 'Warning', 'FailedScheduling', '0/2 nodes are available', { action: 'Scheduling' });
    scheduler.record(pod('d'), 'Warning', 'FailedScheduling', '0/2 nodes are available', { action: 'Scheduling' });
    await scheduler.flush();
    const [c] = await eventsOf('c');
    expect(c).toMatchObject({ action: 'Binding', reportingComponent: 'default-scheduler', reportingInstance: 'default-scheduler-host', source: {} });
    expect(c!.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    for (const f of ['count', 'firstTimestamp', 'lastTimestamp', 'series'] as const) expect(c).not.toHaveProperty(f);
    const d = await eventsOf('d');
    expect(d).toHaveLength(1);
    expect(d[0]!.series).toMatchObject({ count: 2 });
    expect(d[0]!.series!.lastObservedTime).toMatch(/\.\d{6}Z$/);
  });

  it("names sort as the events happened (an object's events list in time order)", async () => {
    const kubelet = createEventRecorder(store, { component: 'kubelet', host: 'node-1' });
    const reasons = ['Scheduled', 'Pulled', 'Created', 'Started', 'Killing'];
    for (const reason of reasons) {
      kubelet.record(pod('e'), 'Normal', reason, reason);
      await kubelet.flush();
    }
    const listed = await eventsOf('e');
    expect(listed.map((x) => x.reason)).toEqual(reasons);
  });
});

describe('eventName', () => {
  it('rises with every name this process gives, even within one millisecond', () => {
    const stamps = Array.from({ length: 2000 }, () => BigInt(`0x${eventName('x', 1_700_000_000_000).split('.')[1]}`));
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]! > stamps[i - 1]!).toBe(true);
  });
});
