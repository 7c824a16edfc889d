/**
 * An Event's times, read as kubectl reads them whichever recorder wrote it: client-go's core/v1
 * recorder sets firstTimestamp/lastTimestamp/count, the events.k8s.io one (the scheduler's) sets
 * eventTime and, on repeats, series {count, lastObservedTime}.
 */
import type { Event } from 'kubernetes-types/core/v1.js';

/** When it was first seen: firstTimestamp, else eventTime (printers.go printEvent). */
export function eventFirstSeen(e: Event): string | undefined {
  return e.firstTimestamp || e.eventTime || undefined;
}

/** When it was last seen: the series' last observation, lastTimestamp, else when first seen. */
export function eventLastSeen(e: Event): string | undefined {
  return e.series?.lastObservedTime || e.lastTimestamp || eventFirstSeen(e);
}

/** How many times it happened: the series' count, count, else 1 (a singleton of the new API). */
export function eventCount(e: Event): number {
  return e.series?.count ?? (e.count || 1);
}

/** The time `kubectl events` sorts by (kubectl events.go eventTime), in ms; 0 when none. */
export function eventSortTime(e: Event): number {
  return Date.parse(e.series?.lastObservedTime || e.lastTimestamp || e.eventTime || '') || 0;
}

/** Who reported it, as the EVENTS table's SOURCE column: `kubelet, node-1` (printers.go formatEventSource). */
export function eventSource(e: Event): string {
  const component = e.source?.component || e.reportingComponent || '';
  const instance = e.source?.host || e.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}
