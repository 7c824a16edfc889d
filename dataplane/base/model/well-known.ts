/**
 * Well-known labels and annotations: Kubernetes' own (k8s.io/api/core/v1/well_known_labels.go,
 * discovery/v1's EndpointSlice labels, apps' hash labels, kubectl's annotations) and knet's, one
 * constant each so a typo is a compile error rather than a silent mismatch.
 */

// ---- Service ↔ EndpointSlice ---------------------------------------------------------------
/** On an EndpointSlice: the Service it belongs to (the join every proxy, DNS and controller makes). */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
/** On an EndpointSlice: the controller that manages it. */
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
/** On Endpoints: do not mirror into EndpointSlices. */
export const LABEL_SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror';
/** On a Service: served by a proxy other than the default kube-proxy (knet's DNS and ingress bind their own). */
export const LABEL_SERVICE_PROXY_NAME = 'service.kubernetes.io/service-proxy-name';
/** On an EndpointSlice or Endpoints of a headless Service. */
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';

// ---- workloads -----------------------------------------------------------------------------
export const LABEL_POD_TEMPLATE_HASH = 'pod-template-hash';
export const LABEL_CONTROLLER_REVISION_HASH = 'controller-revision-hash';
export const LABEL_STATEFULSET_POD_NAME = 'statefulset.kubernetes.io/pod-name';
export const ANNOTATION_RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
export const ANNOTATION_LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** On a Deployment and the ReplicaSet it copies it to: why this revision was made (`kubectl rollout history`). */
export const ANNOTATION_CHANGE_CAUSE = 'kubernetes.io/change-cause';

// ---- Jobs and CronJobs (k8s.io/api/batch/v1) ------------------------------------------------
/** On a Job's pods (and template): the Job's uid; the generated selector selects it. */
export const LABEL_JOB_CONTROLLER_UID = 'batch.kubernetes.io/controller-uid';
/** On a Job's pods (and template): the Job's name. */
export const LABEL_JOB_NAME = 'batch.kubernetes.io/job-name';
/** The unprefixed forms Kubernetes still writes beside the prefixed ones. */
export const LABEL_LEGACY_JOB_CONTROLLER_UID = 'controller-uid';
export const LABEL_LEGACY_JOB_NAME = 'job-name';
/** On an Indexed Job's pod: its completion index (annotation and label). */
export const ANNOTATION_JOB_COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
/** On an Indexed Job's pod with backoffLimitPerIndex: failures of its index before it (counted, and ignored by the podFailurePolicy). */
export const ANNOTATION_JOB_INDEX_FAILURE_COUNT = 'batch.kubernetes.io/job-index-failure-count';
export const ANNOTATION_JOB_INDEX_IGNORED_FAILURE_COUNT = 'batch.kubernetes.io/job-index-ignored-failure-count';
/** On a Job's pods: the controller counts a finished pod before it lets it go. */
export const FINALIZER_JOB_TRACKING = 'batch.kubernetes.io/job-tracking';
/** On a Job a CronJob made: the schedule time it ran for (RFC 3339, in the CronJob's time zone). */
export const ANNOTATION_CRONJOB_SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

// ---- Services -----------------------------------------------------------------------------
/** On a Service: the LoadBalancer IPs it asks MetalLB for, comma-separated (one per family); knet's allocator honours it. */
export const ANNOTATION_METALLB_LOADBALANCER_IPS = 'metallb.universe.tf/loadBalancerIPs';
/** On a Service: source CIDRs a cloud load balancer admits, comma-separated; spec.loadBalancerSourceRanges wins when set. */
export const ANNOTATION_LOAD_BALANCER_SOURCE_RANGES = 'service.beta.kubernetes.io/load-balancer-source-ranges';
/** On a Service: `Auto` asks for the proportional topology-aware hints (topologycache), which then win over spec.trafficDistribution. */
export const ANNOTATION_TOPOLOGY_MODE = 'service.kubernetes.io/topology-mode';
/** The older name of ANNOTATION_TOPOLOGY_MODE; read first when both are set. */
export const ANNOTATION_TOPOLOGY_AWARE_HINTS = 'service.kubernetes.io/topology-aware-hints';

// ---- nodes and namespaces ------------------------------------------------------------------
export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_METADATA_NAME = 'kubernetes.io/metadata.name';

// ---- ingress -------------------------------------------------------------------------------
export const ANNOTATION_DEFAULT_INGRESS_CLASS = 'ingressclass.kubernetes.io/is-default-class';
export const ANNOTATION_INGRESS_CLASS = 'kubernetes.io/ingress.class';
export const ANNOTATION_DEFAULT_STORAGE_CLASS = 'storageclass.kubernetes.io/is-default-class';
export const ANNOTATION_BETA_DEFAULT_STORAGE_CLASS = 'storageclass.beta.kubernetes.io/is-default-class';
/** knet's dynamic provisioner, named by the default StorageClass `standard` (controllers/local-path-provisioner.ts). */
export const LOCAL_PATH_PROVISIONER = 'knet.dev/local-path';
/** The deprecated way to name a claim's or volume's StorageClass (still read before `spec.storageClassName`). */
export const ANNOTATION_BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';

// ---- knet's own ----------------------------------------------------------------------------
/** On a Node: `stopped` pauses its heartbeats (`knet node stop`, the test API's nodeStop). */
export const FAULT_ANNOTATION = 'knet.dev/fault';
/** On the kube-dns Service: the port the DNS server really serves on (5353 without privilege for 53). */
export const ANNOTATION_DNS_PORT = 'knet.dev/dns-port';
