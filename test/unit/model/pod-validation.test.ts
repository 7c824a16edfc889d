import { describe, expect, it } from 'vitest';
import { container, messages, pod, podSpec } from './manifests.js';

const LABEL_1123 =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const PORT_RANGE = 'must be between 1 and 65535, inclusive';
const c0 = 'spec.containers[0]';

const rows: [string, unknown, string[]][] = [
  ['a minimal pod is valid', pod(podSpec()), []],
  ['containers are required', pod({ containers: [] }), ['spec.containers: Required value']],
  ['a missing containers field is a schema error', pod({}), ['spec.containers: Required value']],
  ['container names are required', pod({ containers: [{ image: 'nginx' }] }), [`${c0}.name: Required value`]],
  ['container names are DNS labels', pod({ containers: [container({ name: 'App' })] }), [`${c0}.name: Invalid value: "App": ${LABEL_1123}`]],
  ['container names are unique', pod({ containers: [container(), container()] }), ['spec.containers[1].name: Duplicate value: "app"']],
  ['init and regular containers share names', pod({ containers: [container()], initContainers: [container()] }), [
    'spec.containers[0].name: Duplicate value: "app"',
  ]],
  ['image is required', pod({ containers: [{ name: 'app' }] }), [`${c0}.image: Required value`]],
  ['image without surrounding space', pod({ containers: [container({ image: ' nginx' })] }), [
    `${c0}.image: Invalid value: " nginx": must not have leading or trailing whitespace`,
  ]],
  ['containerPort is required', pod({ containers: [container({ ports: [{ containerPort: 0 }] })] }), [`${c0}.ports[0].containerPort: Required value`]],
  ['containerPort range', pod({ containers: [container({ ports: [{ containerPort: 70000 }] })] }), [
    `${c0}.ports[0].containerPort: Invalid value: 70000: ${PORT_RANGE}`,
  ]],
  ['containerPort protocol', pod({ containers: [container({ ports: [{ containerPort: 80, protocol: 'HTTP' }] })] }), [
    `${c0}.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"`,
  ]],
  ['port names are IANA service names', pod({ containers: [container({ ports: [{ containerPort: 80, name: 'HTTP' }] })] }), [
    `${c0}.ports[0].name: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
    `${c0}.ports[0].name: Invalid value: "HTTP": must contain at least one letter (a-z)`,
  ]],
  ['port names are unique in a container', pod({ containers: [container({ ports: [{ containerPort: 80, name: 'http' }, { containerPort: 81, name: 'http' }] })] }), [
    `${c0}.ports[1].name: Duplicate value: "http"`,
  ]],
  ['a preStop sleep within the grace period is valid', pod(podSpec({ containers: [container({ lifecycle: { preStop: { sleep: { seconds: 30 } } } })] })), []],
  ['a sleep hook lasts more than 0 s and at most the grace period', pod(podSpec({ containers: [container({ lifecycle: { preStop: { sleep: { seconds: 31 } }, postStart: { sleep: { seconds: 0 } } } })] })), [
    `${c0}.lifecycle.postStart.sleep.seconds: Invalid value: 0: must be greater than 0 and less than terminationGracePeriodSeconds (30). Please enable PodLifecycleSleepActionAllowZero feature gate if you need a sleep of zero duration.`,
    `${c0}.lifecycle.preStop.sleep.seconds: Invalid value: 31: must be greater than 0 and less than terminationGracePeriodSeconds (30). Please enable PodLifecycleSleepActionAllowZero feature gate if you need a sleep of zero duration.`,
  ]],
  ['a probe needs a handler', pod({ containers: [container({ readinessProbe: { periodSeconds: 5 } })] }), [
    `${c0}.readinessProbe: Required value: must specify a handler type`,
  ]],
  ['a probe has one handler', pod({ containers: [container({ livenessProbe: { httpGet: { port: 80 }, tcpSocket: { port: 80 } } })] }), [
    `${c0}.livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type`,
  ]],
  ['exec probes need a command', pod({ containers: [container({ livenessProbe: { exec: {} } })] }), [
    `${c0}.livenessProbe.exec.command: Required value`,
  ]],
  ['probe ports by number', pod({ containers: [container({ readinessProbe: { tcpSocket: { port: 0 } } })] }), [
    `${c0}.readinessProbe.tcpSocket.port: Invalid value: 0: ${PORT_RANGE}`,
  ]],
  ['probe ports by name', pod({ containers: [container({ readinessProbe: { httpGet: { port: 'Web' } } })] }), [
    `${c0}.readinessProbe.httpGet.port: Invalid value: "Web": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
  ]],
  ['probe timings are non-negative', pod({ containers: [container({ readinessProbe: { tcpSocket: { port: 80 }, initialDelaySeconds: -1 } })] }), [
    `${c0}.readinessProbe.initialDelaySeconds: Invalid value: -1: must be greater than or equal to 0`,
  ]],
  ['liveness successThreshold is 1', pod({ containers: [container({ livenessProbe: { tcpSocket: { port: 80 }, successThreshold: 2 } })] }), [
    `${c0}.livenessProbe.successThreshold: Invalid value: 2: must be 1`,
  ]],
  ['httpGet scheme', pod({ containers: [container({ readinessProbe: { httpGet: { port: 80, scheme: 'FTP' } } })] }), [
    `${c0}.readinessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS"`,
  ]],
  ['init containers without restartPolicy Always take no probes', pod({ containers: [container()], initContainers: [container({ name: 'init', readinessProbe: { tcpSocket: { port: 80 } } })] }), [
    'spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always',
  ]],
  ['sidecar init containers take probes', pod({ containers: [container()], initContainers: [container({ name: 'side', restartPolicy: 'Always', readinessProbe: { tcpSocket: { port: 80 } } })] }), []],
  ['restartPolicy values', pod(podSpec({ restartPolicy: 'Sometimes' })), [
    'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"',
  ]],
  ['dnsPolicy values', pod(podSpec({ dnsPolicy: 'Custom' })), [
    'spec.dnsPolicy: Unsupported value: "Custom": supported values: "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"',
  ]],
  ['dnsPolicy None needs dnsConfig', pod(podSpec({ dnsPolicy: 'None' })), [
    'spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None',
  ]],
  ['dnsPolicy None needs a nameserver', pod(podSpec({ dnsPolicy: 'None', dnsConfig: { searches: ['svc.cluster.local'] } })), [
    'spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver when `dnsPolicy` is None',
  ]],
  ['dnsConfig nameservers are IPs', pod(podSpec({ dnsConfig: { nameservers: ['dns.local'] } })), [
    'spec.dnsConfig.nameservers[0]: Invalid value: "dns.local": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
  ]],
  ['imagePullPolicy values', pod({ containers: [container({ imagePullPolicy: 'Sometimes' })] }), [
    `${c0}.imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"`,
  ]],
  ['volumeMounts name a volume', pod({ containers: [container({ volumeMounts: [{ name: 'data', mountPath: '/data' }] })] }), [
    `${c0}.volumeMounts[0].name: Not found: "data"`,
  ]],
  ['volume names are unique', pod(podSpec({ volumes: [{ name: 'v', emptyDir: {} }, { name: 'v', emptyDir: {} }] })), [
    'spec.volumes[1].name: Duplicate value: "v"',
  ]],
  ['one source per volume', pod(podSpec({ volumes: [{ name: 'v', emptyDir: {}, secret: { secretName: 's' } }] })), [
    'spec.volumes[0].secret: Forbidden: may not specify more than 1 volume type',
  ]],
  ['secret volumes name a secret', pod(podSpec({ volumes: [{ name: 'v', secret: {} }] })), ['spec.volumes[0].secret.secretName: Required value']],
  ['volume file modes', pod(podSpec({ volumes: [{ name: 'v', configMap: { name: 'c', defaultMode: 0o1000 } }] })), [
    'spec.volumes[0].configMap.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive',
  ]],
  ['a volume with no source is an emptyDir', pod(podSpec({ volumes: [{ name: 'scratch' }] })), []],
  ['hostname is a DNS label', pod(podSpec({ hostname: 'web.1' })), ['spec.hostname: Invalid value: "web.1": must not contain dots']],
  ['nodeName is a DNS subdomain', pod(podSpec({ nodeName: 'Node_1' })), [`spec.nodeName: Invalid value: "Node_1": ${SUBDOMAIN}`]],
  ['env names are required', pod({ containers: [container({ env: [{ value: 'x' }] })] }), [`${c0}.env[0].name: Required value`]],
  ['env names have no =', pod({ containers: [container({ env: [{ name: 'A=B', value: 'x' }] })] }), [
    `${c0}.env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
  ]],
  ['env value and valueFrom exclude each other', pod({ containers: [container({ env: [{ name: 'A', value: 'x', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] })] }), [
    `${c0}.env[0].valueFrom: Invalid value: "": may not be specified when \`value\` is not empty`,
  ]],
  ['pod names are DNS subdomains', pod(podSpec(), { name: 'web_1' }), [`metadata.name: Invalid value: "web_1": ${SUBDOMAIN}`]],
  ['resources are type-checked', pod({ containers: [container({ resources: { limits: { cpu: 'lots' } } })] }), [
    `${c0}.resources.limits[cpu]: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
  ]],
];

describe('Pod validation', () => {
  it.each(rows)('%s', (_what, manifest, expected) => {
    expect(messages(manifest)).toEqual(expected);
  });
});
