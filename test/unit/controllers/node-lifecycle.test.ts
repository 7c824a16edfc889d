import { describe, expect, it } from 'vitest';
import {
  isMarkedUnreachable,
  markPodNotReady,
  recoveredConditions,
  restorePodReady,
  silenceMs,
  unreachableConditions,
  unreachableTaints,
} from '../../../dataplane/controllers/node-lifecycle.js';
import { T0, iso, node, pod } from './fixtures.js';

const NOW = iso(T0 + 60_000);

describe('node lifecycle', () => {
  const cases: Array<[string, number | undefined, number, number]> = [
    ['heartbeat known', T0 + 1000, T0, 4000],
    ['never heartbeat: since first seen', undefined, T0 + 2000, 3000],
    ['old heartbeat, controller just started (or store just back): a full grace from then', T0 - 60_000, T0 + 4000, 1000],
  ];
  it.each(cases)('silence: %s', (_n, last, firstSeen, want) => {
    expect(silenceMs(node('node-1'), last, firstSeen, T0 + 5000)).toBe(want);
  });

  it("turns every condition the kubelet posts Unknown with the upstream reason and message, keeping others, and gets both unreachable taints", () => {
    const n = { ...node('node-1', { taints: [{ key: 'dedicated', effect: 'NoSchedule' }] }) };
    n.status!.conditions!.push({ type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory' }, { type: 'NetworkUnavailable', status: 'False' });
    const conditions = unreachableConditions(n, NOW);
    expect(conditions.find((c) => c.type === 'Ready')).toEqual({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: NOW });
    expect(conditions.find((c) => c.type === 'MemoryPressure')).toEqual({ type: 'MemoryPressure', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: NOW });
    expect(conditions.find((c) => c.type === 'NetworkUnavailable')).toEqual({ type: 'NetworkUnavailable', status: 'False' });
    expect(recoveredConditions({ ...n, status: { conditions } }, NOW).find((c) => c.type === 'MemoryPressure')).toMatchObject({ status: 'False', reason: 'KubeletHasSufficientMemory' });
    expect(unreachableTaints(n, NOW)).toEqual([
      { key: 'dedicated', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: NOW },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: NOW },
    ]);
    const marked = { ...n, status: { conditions } };
    expect(isMarkedUnreachable(marked)).toBe(true);
    expect(isMarkedUnreachable(node('node-1'))).toBe(false);
    expect(recoveredConditions(marked, NOW).find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
  });

  it('marks a Ready pod not ready, and restores only what it marked while the containers say ready', () => {
    const p = pod('p', { node: 'node-1', ready: true });
    const marked = markPodNotReady(p, NOW)!;
    expect(marked.find((c) => c.type === 'Ready')).toEqual({ type: 'Ready', status: 'False', reason: 'NodeNotReady', message: 'Node is not ready', lastTransitionTime: NOW });
    const afterMark = { ...p, status: { ...p.status, conditions: marked } };
    expect(markPodNotReady(afterMark, NOW)).toBeUndefined();
    expect(restorePodReady(afterMark, NOW)!.find((c) => c.type === 'Ready')).toEqual({ type: 'Ready', status: 'True', lastTransitionTime: NOW });
    // Not ours (the agent said not ready): left alone.
    expect(restorePodReady(pod('q', { node: 'node-1', ready: false }), NOW)).toBeUndefined();
    // Ours, but a container is not ready: left for the agent to decide.
    const unreadyContainer = { ...afterMark, status: { ...afterMark.status, containerStatuses: [{ name: 'c', image: 'x', imageID: '', ready: false, restartCount: 0 }] } };
    expect(restorePodReady(unreadyContainer, NOW)).toBeUndefined();
    expect(markPodNotReady(pod('done', { node: 'node-1', ready: true, phase: 'Succeeded' }), NOW)).toBeUndefined();
  });
});
