/**
 * kubectl's table columns for each kind (`get` and `get -o wide`), as the apiserver's printers
 * define them (k8s pkg/printers/internalversion/printers.go): one printer per kind, its column
 * definitions and how to fill a row. `knet get` lays them out as text (text-table.ts); the
 * apiserver serves them as metav1 Tables. What a column is, and the columns kinds share, are in
 * columns.ts; the cells computed from a status, in pod-, service- and job-cells.ts.
 */
import type { Pod, Service, Node, Endpoints, Secret, ConfigMap, Namespace, Event, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet, StatefulSet, DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressClass, NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { formatLabelSelector } from '../model/selector.js';
import type { Kind } from '../model/object.js';
import { age } from './age.js';
import { eventCount, eventFirstSeen, eventLastSeen, eventSource } from './event-times.js';
import { AGE, JOB_TEMPLATE_COLUMNS, NAME, POD_TEMPLATE_COLUMNS, TEMPLATE_COLUMNS, boolText, col, int, labelsText, none, podTemplateCells, templateCells, wide, type Printer } from './columns.js';
import { podStatusText } from './pod-cells.js';
import { externalIP, serviceEndpoints, servicePorts } from './service-cells.js';
import { jobCompletionsText, jobDurationText, jobStatusText } from './job-cells.js';
import { STORAGE_PRINTERS } from './storage-printers.js';
import { RBAC_PRINTERS } from './rbac-printers.js';
import { POLICY_PRINTERS } from './policy-printers.js';
import { SCALING_PRINTERS } from './scaling-printers.js';

const PRINTERS: Record<Kind, Printer> = {
  ...STORAGE_PRINTERS,
  ...RBAC_PRINTERS,
  ...POLICY_PRINTERS,
  ...SCALING_PRINTERS,
  Pod: {
    columns: [
      NAME,
      col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'The number of times the containers in this pod have been restarted.'),
      AGE,
      wide('IP', 'podIP address allocated to the pod.'),
      wide('Node', 'NodeName is a request to schedule this pod onto a specific node.'),
      wide('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node.'),
      wide('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.'),
    ],
    cells: (o) => {
      const p = o as Pod;
      const cs = p.status?.containerStatuses ?? [];
      const total = p.spec?.containers?.length ?? cs.length;
      const restarts = cs.reduce((n, c) => n + (c.restartCount ?? 0), 0);
      const gates = p.spec?.readinessGates ?? [];
      const gatesText = gates.length ? `${gates.filter((g) => p.status?.conditions?.some((c) => c.type === g.conditionType && c.status === 'True')).length}/${gates.length}` : none;
      return [p.metadata!.name!, `${cs.filter((c) => c.ready).length}/${total}`, podStatusText(p), restarts, age(p.metadata?.creationTimestamp), p.status?.podIP ?? none, p.spec?.nodeName ?? none, p.status?.nominatedNodeName ?? none, gatesText];
    },
  },
  Service: {
    columns: [
      NAME,
      col('Type', 'type determines how the Service is exposed.'),
      col('Cluster-IP', 'clusterIP is the IP address of the service.'),
      col('External-IP', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
      col('Port(s)', 'The list of ports that are exposed by this service.'),
      AGE,
      wide('Selector', 'Route service traffic to pods with label keys and values matching this selector.'),
      wide('Endpoints', 'The endpoints the proxy sends this service\'s traffic to.', { knetOnly: true }),
    ],
    cells: (o, context) => {
      const s = o as Service;
      return [s.metadata!.name!, s.spec?.type ?? 'ClusterIP', s.spec?.clusterIP ?? none, externalIP(s), servicePorts(s), age(s.metadata?.creationTimestamp), labelsText(s.spec?.selector), serviceEndpoints(s, context.endpointSlices ?? [])];
    },
  },
  Endpoints: {
    columns: [NAME, col('Endpoints', 'The set of all endpoints is the union of all subsets.'), AGE],
    cells: (o) => {
      const e = o as Endpoints;
      const eps = (e.subsets ?? []).flatMap((s) => (s.addresses ?? []).flatMap((a) => (s.ports?.length ? s.ports.map((p) => `${a.ip}:${p.port}`) : [a.ip])));
      const shown = eps.slice(0, 3).join(',') + (eps.length > 3 ? ` + ${eps.length - 3} more...` : '');
      return [e.metadata!.name!, shown || none, age(e.metadata?.creationTimestamp)];
    },
  },
  EndpointSlice: {
    columns: [NAME, col('AddressType', 'The type of address carried by this EndpointSlice.'), col('Ports', 'Ports served by this EndpointSlice.'), col('Endpoints', 'Endpoints in this EndpointSlice.'), AGE],
    cells: (o) => {
      const s = o as unknown as EndpointSlice;
      const addrs = (s.endpoints ?? []).map((e) => e.addresses[0]!);
      const shown = addrs.slice(0, 3).join(',') + (addrs.length > 3 ? ` + ${addrs.length - 3} more...` : '');
      return [s.metadata!.name!, s.addressType, (s.ports ?? []).map((p) => String(p.port)).join(',') || none, shown || none, age(s.metadata?.creationTimestamp)];
    },
  },
  Deployment: {
    columns: [
      NAME,
      col('Ready', 'Number of the pod with ready state'),
      int('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
      int('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
      AGE,
      ...TEMPLATE_COLUMNS,
    ],
    cells: (o) => {
      const d = o as Deployment;
      return [d.metadata!.name!, `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`, d.status?.updatedReplicas ?? 0, d.status?.availableReplicas ?? 0, age(d.metadata?.creationTimestamp), ...templateCells(d.spec)];
    },
  },
  ReplicaSet: {
    columns: [NAME, int('Desired', 'Replicas is the number of desired replicas.'), int('Current', 'Replicas is the most recently observed number of replicas.'), int('Ready', 'readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition.'), AGE, ...TEMPLATE_COLUMNS],
    cells: (o) => {
      const r = o as ReplicaSet;
      return [r.metadata!.name!, r.spec?.replicas ?? 1, r.status?.replicas ?? 0, r.status?.readyReplicas ?? 0, age(r.metadata?.creationTimestamp), ...templateCells(r.spec)];
    },
  },
  StatefulSet: {
    columns: [NAME, col('Ready', 'Number of the pod with ready state'), AGE, ...POD_TEMPLATE_COLUMNS],
    cells: (o) => {
      const s = o as StatefulSet;
      return [s.metadata!.name!, `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 1}`, age(s.metadata?.creationTimestamp), ...podTemplateCells(s.spec?.template)];
    },
  },
  DaemonSet: {
    columns: [
      NAME,
      int('Desired', 'The total number of nodes that should be running the daemon pod.'),
      int('Current', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
      int('Ready', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.'),
      int('Up-to-date', 'The total number of nodes that are running updated daemon pod'),
      int('Available', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.'),
      col('Node Selector', 'NodeSelector is a selector which must be true for the pod to fit on a node.'),
      AGE,
      ...TEMPLATE_COLUMNS,
    ],
    cells: (o) => {
      const d = o as DaemonSet;
      const st = d.status;
      return [d.metadata!.name!, st?.desiredNumberScheduled ?? 0, st?.currentNumberScheduled ?? 0, st?.numberReady ?? 0, st?.updatedNumberScheduled ?? 0, st?.numberAvailable ?? 0, labelsText(d.spec?.template?.spec?.nodeSelector), age(d.metadata?.creationTimestamp), ...templateCells(d.spec)];
    },
  },
  Job: {
    columns: [
      NAME,
      col('Status', 'Status of the job.'),
      col('Completions', 'The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.'),
      col('Duration', 'Time required to complete the job.'),
      AGE,
      ...JOB_TEMPLATE_COLUMNS,
    ],
    cells: (o) => {
      const j = o as Job;
      return [j.metadata!.name!, jobStatusText(j), jobCompletionsText(j), jobDurationText(j), age(j.metadata?.creationTimestamp), ...templateCells(j.spec)];
    },
  },
  CronJob: {
    columns: [
      NAME,
      col('Schedule', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
      col('Timezone', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.'),
      col('Suspend', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.', { type: 'boolean' }),
      int('Active', 'A list of pointers to currently running jobs.'),
      col('Last Schedule', 'Information when was the last time the job was successfully scheduled.'),
      AGE,
      ...JOB_TEMPLATE_COLUMNS,
    ],
    cells: (o) => {
      const c = o as CronJob;
      const last = c.status?.lastScheduleTime ? age(c.status.lastScheduleTime) : none;
      return [c.metadata!.name!, c.spec?.schedule ?? '', c.spec?.timeZone ?? none, boolText(c.spec?.suspend), c.status?.active?.length ?? 0, last, age(c.metadata?.creationTimestamp), ...templateCells(c.spec?.jobTemplate?.spec)];
    },
  },
  Ingress: {
    columns: [
      NAME,
      col('Class', 'The name of the IngressClass resource that should be used for additional configuration'),
      col('Hosts', 'Hosts that incoming requests are matched against before the ingress rule'),
      col('Address', 'Address is a list containing ingress points for the load-balancer'),
      col('Ports', 'Ports of TLS configurations that open'),
      AGE,
    ],
    cells: (o) => {
      const i = o as Ingress;
      const hosts = (i.spec?.rules ?? []).map((r) => r.host ?? '*');
      const address = (i.status?.loadBalancer?.ingress ?? []).map((x) => x.ip ?? x.hostname).join(',');
      return [i.metadata!.name!, i.spec?.ingressClassName ?? none, hosts.length ? hosts.join(',') : '*', address, i.spec?.tls?.length ? '80, 443' : '80', age(i.metadata?.creationTimestamp)];
    },
  },
  IngressClass: {
    columns: [NAME, col('Controller', 'Controller that is responsible for handling this class'), col('Parameters', 'A reference to a resource with additional parameters'), AGE],
    cells: (o) => {
      const c = o as IngressClass;
      const p = c.spec?.parameters;
      return [c.metadata!.name!, c.spec?.controller ?? '', p ? `${p.apiGroup ? `${p.kind}.${p.apiGroup}` : p.kind}/${p.name}` : none, age(c.metadata?.creationTimestamp)];
    },
  },
  NetworkPolicy: {
    columns: [NAME, col('Pod-Selector', 'Selects the pods to which this NetworkPolicy object applies.'), AGE],
    cells: (o) => {
      const p = o as NetworkPolicy;
      return [p.metadata!.name!, formatLabelSelector(p.spec?.podSelector), age(p.metadata?.creationTimestamp)];
    },
  },
  Lease: {
    columns: [NAME, col('Holder', 'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.'), AGE],
    cells: (o) => [o.metadata!.name!, (o as Lease).spec?.holderIdentity ?? '', age(o.metadata?.creationTimestamp)],
  },
  Node: {
    columns: [
      NAME,
      col('Status', 'The status of the node'),
      col('Roles', 'The roles of the node'),
      AGE,
      col('Version', 'Kubelet Version reported by the node.'),
      wide('Internal-IP', 'List of addresses reachable to the node.'),
      wide('External-IP', 'List of addresses reachable to the node.'),
      wide('OS-Image', 'OS Image reported by the node from /etc/os-release.'),
      wide('Kernel-Version', "Kernel Version reported by the node from 'uname -r'."),
      wide('Container-Runtime', 'ContainerRuntime Version reported by the node through runtime remote API.'),
    ],
    cells: (o) => {
      const n = o as Node;
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      const unschedulable = n.spec?.unschedulable ? ',SchedulingDisabled' : '';
      const roles = Object.keys(n.metadata?.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.split('/')[1]);
      const addr = (t: string) => n.status?.addresses?.find((a) => a.type === t)?.address ?? none;
      const info = n.status?.nodeInfo;
      return [n.metadata!.name!, (ready ? 'Ready' : 'NotReady') + unschedulable, roles.join(',') || none, age(n.metadata?.creationTimestamp), info?.kubeletVersion ?? '', addr('InternalIP'), addr('ExternalIP'), info?.osImage ?? '', info?.kernelVersion ?? '', info?.containerRuntimeVersion ?? ''];
    },
  },
  Namespace: {
    columns: [NAME, col('Status', 'The status of the namespace'), AGE],
    cells: (o) => [o.metadata!.name!, (o as Namespace).status?.phase ?? 'Active', age(o.metadata?.creationTimestamp)],
  },
  Secret: {
    columns: [NAME, col('Type', 'Used to facilitate programmatic handling of secret data.'), int('Data', 'Data contains the secret data.'), AGE],
    cells: (o) => {
      const s = o as Secret;
      return [s.metadata!.name!, s.type ?? 'Opaque', Object.keys(s.data ?? {}).length, age(s.metadata?.creationTimestamp)];
    },
  },
  ServiceAccount: {
    columns: [NAME, int('Secrets', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), AGE],
    cells: (o) => [o.metadata!.name!, (o as ServiceAccount).secrets?.length ?? 0, age(o.metadata?.creationTimestamp)],
  },
  ConfigMap: {
    columns: [NAME, int('Data', 'Data contains the configuration data.'), AGE],
    cells: (o) => [o.metadata!.name!, Object.keys((o as ConfigMap).data ?? {}).length + Object.keys((o as ConfigMap).binaryData ?? {}).length, age(o.metadata?.creationTimestamp)],
  },
  Event: {
    columns: [
      col('Last Seen', 'The time at which the most recent occurrence of this event was recorded.'),
      col('Type', 'Type of this event (Normal, Warning), new types could be added in the future'),
      col('Reason', 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
      col('Object', 'The object that this event is about.'),
      wide('Subobject', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.'),
      wide('Source', 'The component reporting this event.'),
      col('Message', 'A human-readable description of the status of this operation.'),
      wide('First Seen', 'The time at which the event was first recorded.'),
      wide('Count', 'The number of times this event has occurred.'),
      wide('Name', 'Name must be unique within a namespace.', { format: 'name' }),
    ],
    cells: (o) => {
      const e = o as unknown as Event;
      const involved = e.involvedObject;
      return [
        age(eventLastSeen(e)),
        e.type ?? '',
        e.reason ?? '',
        involved.name ? `${(involved.kind ?? '').toLowerCase()}/${involved.name}` : (involved.kind ?? '').toLowerCase(),
        involved.fieldPath ?? '',
        eventSource(e),
        (e.message ?? '').trim(),
        age(eventFirstSeen(e)),
        eventCount(e),
        e.metadata?.name ?? '',
      ];
    },
  },
};

/** The printer of a kind: its column definitions and how to fill a row. */
export function printerOf(kind: Kind): Printer {
  return PRINTERS[kind];
}
