import { describe, expect, it } from 'vitest';
import type { KObject } from '../../../dataplane/base/model/object.js';
import { describe as describeObject } from '../../../dataplane/cli/commands/describe.js';

describe('knet describe pod', () => {
  it('shows the ephemeral containers kubectl debug added, as kubectl describe does, after the containers', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-0', namespace: 'default' },
      spec: { containers: [{ name: 'web', image: 'nginx' }], ephemeralContainers: [{ name: 'dbg', image: 'busybox', command: ['sleep', 'infinity'] }] },
      status: {
        containerStatuses: [{ name: 'web', image: 'nginx', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }],
        ephemeralContainerStatuses: [{ name: 'dbg', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 3, reason: 'Error' } } }],
      },
    } as KObject;
    const out = describeObject('Pod', pod, []);
    expect(out).toMatch(/Containers:\n {2}web:\n[\s\S]*Ephemeral Containers:\n {2}dbg:\n {4}Image: +busybox\n {4}Command: +sleep infinity\n[\s\S]*State: +Terminated \(Error, exit code 3\)\n[\s\S]*Conditions:/);
    expect(describeObject('Pod', { ...pod, spec: { containers: [{ name: 'web', image: 'nginx' }] } } as KObject, [])).not.toContain('Ephemeral Containers');
  });
});
