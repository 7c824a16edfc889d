/**
 * Pod and pod-template defaults (pkg/apis/core/v1/defaults.go): restart and DNS policy, grace
 * period, scheduler, container pull policy and termination message, port protocols, probe
 * timings, volume modes. enableServiceLinks and the limits→requests copy apply to Pods only,
 * not to templates, exactly as upstream.
 */
import { asObject, asObjects, ensureObject, setDefault, type JsonObject } from './json.js';

/** Docker's rule, as ParseImageName applies it: no tag and no digest means "latest". */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  const named = at >= 0 ? image.slice(0, at) : image;
  const lastSlash = named.lastIndexOf('/');
  const colon = named.lastIndexOf(':');
  const tag = colon > lastSlash ? named.slice(colon + 1) : '';
  return tag === '' && at < 0 ? 'latest' : tag;
}

function defaultHTTPGet(h: JsonObject | undefined): void {
  if (!h) return;
  setDefault(h, 'path', '/');
  setDefault(h, 'scheme', 'HTTP');
}

function defaultProbe(p: JsonObject | undefined): void {
  if (!p) return;
  for (const [k, v] of [['timeoutSeconds', 1], ['periodSeconds', 10], ['successThreshold', 1], ['failureThreshold', 3]] as const) {
    if (p[k] === undefined || p[k] === 0) p[k] = v;
  }
  defaultHTTPGet(asObject(p.httpGet));
  const grpc = asObject(p.grpc);
  if (grpc) setDefault(grpc, 'service', '');
}

function defaultContainer(c: JsonObject, isPod: boolean): void {
  if (c.imagePullPolicy === undefined || c.imagePullPolicy === '') {
    c.imagePullPolicy = typeof c.image === 'string' && imageTag(c.image) === 'latest' ? 'Always' : 'IfNotPresent';
  }
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  const resources = ensureObject(c, 'resources');
  if (isPod && resources) {
    // SetDefaults_Pod: limits without requests become requests too.
    const limits = asObject(resources.limits);
    if (limits && Object.keys(limits).length > 0) {
      const requests = ensureObject(resources, 'requests');
      if (requests) for (const [k, v] of Object.entries(limits)) setDefault(requests, k, v);
    }
  }
  for (const port of asObjects(c.ports)) setDefault(port, 'protocol', 'TCP');
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(asObject(c[probe]));
  const lifecycle = asObject(c.lifecycle);
  for (const hook of ['postStart', 'preStop']) defaultHTTPGet(asObject(asObject(lifecycle?.[hook])?.httpGet));
  for (const env of asObjects(c.env)) {
    const fieldRef = asObject(asObject(env.valueFrom)?.fieldRef);
    if (fieldRef) setDefault(fieldRef, 'apiVersion', 'v1');
  }
}

const VOLUME_MODE_SOURCES = ['secret', 'configMap', 'downwardAPI', 'projected'];

function defaultVolume(v: JsonObject): void {
  // A volume naming no source is an emptyDir (SetDefaults_Volume).
  if (Object.keys(v).every((k) => k === 'name')) v.emptyDir = {};
  for (const src of VOLUME_MODE_SOURCES) {
    const s = asObject(v[src]);
    if (s) setDefault(s, 'defaultMode', 0o644);
  }
  const hostPath = asObject(v.hostPath);
  if (hostPath) setDefault(hostPath, 'type', '');
}

/** Defaults of a PodSpec; `isPod` adds the Pod-only ones. Mutates `spec` (callers pass a copy). */
export function defaultPodSpec(spec: JsonObject, isPod: boolean): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'schedulerName', 'default-scheduler');
  // v1 conversion: the deprecated serviceAccount stands for serviceAccountName when that is unset,
  // and is written out equal to it.
  if (!spec.serviceAccountName && typeof spec.serviceAccount === 'string' && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  for (const c of [...asObjects(spec.containers), ...asObjects(spec.initContainers)]) defaultContainer(c, isPod);
  // SetDefaults_EphemeralContainer: an ephemeral container is defaulted as a container (it sets no limits to copy).
  if (isPod) for (const c of asObjects(spec.ephemeralContainers)) defaultContainer(c, false);
  for (const v of asObjects(spec.volumes)) defaultVolume(v);
  if (isPod) {
    setDefault(spec, 'enableServiceLinks', true);
    if (spec.hostNetwork === true) {
      // With the host's network, a container port is a host port.
      for (const c of [...asObjects(spec.containers), ...asObjects(spec.initContainers)]) {
        for (const port of asObjects(c.ports)) if (port.hostPort === undefined) port.hostPort = port.containerPort;
      }
    }
  }
}

export function defaultPodTemplate(template: JsonObject | undefined): void {
  const spec = template && ensureObject(template, 'spec');
  if (spec) defaultPodSpec(spec, false);
}
