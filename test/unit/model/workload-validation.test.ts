import { describe, expect, it } from 'vitest';
import { messages, podSpec, template, workload } from './manifests.js';

const MISMATCH = 'spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`';
const KINDS = ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet'] as const;

describe.each(KINDS)('%s validation', (kind) => {
  const emptyWord = { Deployment: 'deployment', ReplicaSet: 'deployment', StatefulSet: 'statefulset', DaemonSet: 'daemonset' }[kind];
  const rows: [string, Record<string, unknown>, string[]][] = [
    ['a minimal object is valid', {}, []],
    ['selector matches template labels', { template: template({ app: 'other' }) }, [MISMATCH]],
    ['a template without labels', { template: { spec: podSpec() } }, [
      'spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template `labels`',
    ]],
    ['selector is required (and then matches nothing)', { selector: undefined }, [
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ]],
    ['selector may not be empty', { selector: {} }, [
      `spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for ${emptyWord}`,
    ]],
    ['matchExpressions In needs values', { selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }, [
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"app", Operator:"In", Values:[]string(nil)}}}: invalid label selector',
    ]],
    ['matchExpressions match template labels', { selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] } }, []],
    ['template pods restart Always', { template: template({ app: 'web' }, podSpec({ restartPolicy: 'Never' })) }, [
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]],
    ['template containers are validated', { template: template({ app: 'web' }, { containers: [{ name: 'c' }] }) }, [
      'spec.template.spec.containers[0].image: Required value',
    ]],
    ['template labels are validated', { selector: { matchLabels: { app: 'a b' } }, template: template({ app: 'a b' }) }, [
      "spec.selector.matchLabels: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      "spec.template.labels: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ]],
  ];
  if (kind !== 'DaemonSet') {
    rows.push(['replicas are non-negative', { replicas: -1 }, ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']]);
    rows.push(['zero replicas are fine', { replicas: 0 }, []]);
  }
  it.each(rows)('%s', (_what, spec, expected) => {
    const obj = workload(kind, spec);
    if ('selector' in spec && spec.selector === undefined) delete (obj.spec as Record<string, unknown>).selector;
    expect(messages(obj)).toEqual(expected);
  });
});

describe('kind-specific workload rules', () => {
  const rows: [string, unknown, string[]][] = [
    ['Deployment strategy type', workload('Deployment', { strategy: { type: 'BlueGreen' } }), [
      'spec.strategy.type: Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate"',
    ]],
    ['Recreate takes no rollingUpdate', workload('Deployment', { strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } }), [
      "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
    ]],
    ['maxSurge and maxUnavailable not both 0', workload('Deployment', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }), [
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0',
    ]],
    ['percentages are numeric', workload('Deployment', { strategy: { rollingUpdate: { maxSurge: 'lots' } } }), [
      "spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"lots\"}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    ]],
    ['maxUnavailable at most 100%', workload('Deployment', { strategy: { rollingUpdate: { maxUnavailable: '120%' } } }), [
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"120%"}: must not be greater than 100%',
    ]],
    ['progressDeadlineSeconds beyond minReadySeconds', workload('Deployment', { minReadySeconds: 700 }), [
      'spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds',
    ]],
    ['activeDeadlineSeconds in templates', workload('Deployment', { template: template({ app: 'web' }, podSpec({ activeDeadlineSeconds: 30 })) }), [
      'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported',
    ]],
    ['StatefulSet podManagementPolicy', workload('StatefulSet', { podManagementPolicy: 'Random' }), [
      'spec.podManagementPolicy: Unsupported value: "Random": supported values: "OrderedReady", "Parallel"',
    ]],
    ['StatefulSet OnDelete takes no rollingUpdate', workload('StatefulSet', { updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } }), [
      'spec.updateStrategy.rollingUpdate: Invalid value: {"partition":1}: only allowed for updateStrategy \'RollingUpdate\'',
    ]],
    ['StatefulSet mounts may name its volumeClaimTemplates', workload('StatefulSet', {
      template: template({ app: 'web' }, { containers: [{ name: 'c', image: 'x', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] }),
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    }), []],
    ['StatefulSet mounts of neither a volume nor a claim template', workload('StatefulSet', {
      template: template({ app: 'web' }, { containers: [{ name: 'c', image: 'x', volumeMounts: [{ name: 'logs', mountPath: '/logs' }] }] }),
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    }), ['spec.template.spec.containers[0].volumeMounts[0].name: Not found: "logs"']],
    ['DaemonSet update strategy', workload('DaemonSet', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } }), [
      'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0',
    ]],
  ];
  it.each(rows)('%s', (_what, manifest, expected) => {
    expect(messages(manifest)).toEqual(expected);
  });
});
