import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { applyDefaults } from '../../../dataplane/base/model/defaults/index.js';
import { validateEphemeralContainersUpdate, validatePodCreate } from '../../../dataplane/base/model/validate/ephemeral-containers.js';
import { validateUpdate } from '../../../dataplane/base/model/validate/index.js';
import { messages, pod, podSpec } from './manifests.js';

type Json = Record<string, unknown>;
const debug = (extra: Json = {}): Json => ({ name: 'dbg', image: 'busybox', ...extra });
const withEphemeral = (...ecs: Json[]) => pod(podSpec({ ephemeralContainers: ecs }));

describe('ephemeral containers in a pod spec (validateEphemeralContainers)', () => {
  const rows: [string, Json[], string[]][] = [
    ['a debug container', [debug({ command: ['sh'], stdin: true, tty: true, targetContainerName: 'app' })], []],
    ['two, named apart', [debug(), debug({ name: 'dbg2', image: 'nicolaka/netshoot' })], []],
    ['env and a mounted volume are allowed', [debug({ env: [{ name: 'A', value: '1' }], volumeMounts: [{ name: 'data', mountPath: '/data' }] })], []],
    ['a name taken by a container', [debug({ name: 'app' })], ['spec.ephemeralContainers[0].name: Duplicate value: "app"']],
    ['a name used twice', [debug(), debug()], ['spec.ephemeralContainers[1].name: Duplicate value: "dbg"']],
    ['a name that is no DNS label', [debug({ name: 'Dbg_1' })], [
      "spec.ephemeralContainers[0].name: Invalid value: \"Dbg_1\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]],
    ['no image', [{ name: 'dbg' }], ['spec.ephemeralContainers[0].image: Required value']],
    ['a target that is not a container', [debug({ targetContainerName: 'nope' })], ['spec.ephemeralContainers[0].targetContainerName: Not found: "nope"']],
    ['ports', [debug({ ports: [{ containerPort: 80 }] })], ['spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container']],
    ['probes and lifecycle', [debug({ readinessProbe: { tcpSocket: { port: 80 } }, lifecycle: { preStop: { exec: { command: ['true'] } } } })], [
      'spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[0].lifecycle: Forbidden: cannot be set for an Ephemeral Container',
    ]],
    ['resources', [debug({ resources: { limits: { cpu: '1' } } })], ['spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral Container']],
    ['a subPath', [debug({ volumeMounts: [{ name: 'data', mountPath: '/data', subPath: 'x' }] })], [
      'spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container',
    ]],
  ];
  it.each(rows)('%s', (_name, ecs, want) => {
    const p = pod(podSpec({ volumes: [{ name: 'data', emptyDir: {} }], ephemeralContainers: ecs }));
    expect(messages(p)).toEqual(want);
  });

  it('are defaulted as containers are (pull policy, termination message, resources {})', () => {
    const p = applyDefaults(withEphemeral(debug())) as Pod;
    expect(p.spec?.ephemeralContainers?.[0]).toEqual({ ...debug(), imagePullPolicy: 'Always', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {} });
  });
});

describe('ValidatePodCreate', () => {
  it('refuses ephemeral containers on create', () => {
    expect(validatePodCreate(withEphemeral(debug()) as Pod).map((e) => e.message)).toEqual(['spec.ephemeralContainers: Forbidden: cannot be set on create']);
    expect(validatePodCreate(pod(podSpec()) as Pod)).toEqual([]);
  });
});

describe('ValidatePodEphemeralContainersUpdate', () => {
  const one = withEphemeral(debug()) as Pod;
  const update = (o: Pod, n: unknown) => validateEphemeralContainersUpdate(o, n as Pod).map((e) => e.message);
  it('allows adding, in any order', () => {
    expect(update(pod(podSpec()) as Pod, one)).toEqual([]);
    expect(update(one, withEphemeral(debug({ name: 'dbg2' }), debug()))).toEqual([]);
  });
  it('refuses removing one, in upstream words', () => {
    expect(update(one, pod(podSpec()))).toEqual(['spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be removed\n']);
  });
  it('refuses changing one, naming what changed', () => {
    expect(update(one, withEphemeral(debug({ image: 'alpine' })))).toEqual(['spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be changed\n(fields: image)']);
  });
  it('key order is no change', () => {
    expect(update(one, withEphemeral({ image: 'busybox', name: 'dbg' }))).toEqual([]);
  });
});

describe('a plain pod update', () => {
  it('still may not touch ephemeral containers', () => {
    expect(validateUpdate(pod(podSpec()), withEphemeral(debug())).map((e) => e.message)).toEqual([
      'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    ]);
  });
});
