/**
 * Container validation (validateContainers and friends): names, image, ports, env, volume
 * mounts, probes and lifecycle handlers, with the apiserver's messages.
 */
import type {
  Container,
  ContainerPort,
  EnvVar,
  LifecycleHandler,
  Probe,
  VolumeMount,
} from 'kubernetes-types/core/v1.js';
import {
  child,
  duplicate,
  forbidden,
  index,
  invalid,
  notFound,
  notSupported,
  required,
  type FieldError,
} from './field-error.js';
import { isConfigMapKey, isDNS1123Label, isValidPortName, isValidPortNum, validatePortNumOrName } from './formats.js';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];
const NONNEGATIVE = 'must be greater than or equal to 0';

function validateContainerPorts(ports: ContainerPort[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = index(path, i);
    if (port.name) {
      const msgs = isValidPortName(port.name);
      if (msgs.length) msgs.forEach((m) => errs.push(invalid(child(p, 'name'), port.name, m)));
      else if (names.has(port.name)) errs.push(duplicate(child(p, 'name'), port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(required(child(p, 'containerPort')));
    else for (const m of isValidPortNum(port.containerPort)) errs.push(invalid(child(p, 'containerPort'), port.containerPort, m));
    if (port.hostPort) for (const m of isValidPortNum(port.hostPort)) errs.push(invalid(child(p, 'hostPort'), port.hostPort, m));
    if (!port.protocol) errs.push(required(child(p, 'protocol')));
    else if (!PROTOCOLS.includes(port.protocol)) errs.push(notSupported(child(p, 'protocol'), port.protocol, PROTOCOLS));
  });
  return errs;
}

function validateEnv(env: EnvVar[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  env.forEach((ev, i) => {
    const p = index(path, i);
    if (!ev.name) errs.push(required(child(p, 'name')));
    else if (!/^[\x20-\x7e]+$/.test(ev.name) || ev.name.includes('=')) {
      errs.push(invalid(child(p, 'name'), ev.name, "a valid environment variable name must consist only of printable ASCII characters other than '='"));
    }
    if (ev.valueFrom) {
      const sources = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'fileKeyRef'].filter(
        (k) => (ev.valueFrom as Record<string, unknown>)[k] !== undefined,
      );
      if (sources.length === 0) {
        errs.push(invalid(child(p, 'valueFrom'), '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
      } else if (sources.length > 1) {
        errs.push(invalid(child(p, 'valueFrom'), '', 'may not have more than one field specified at a time'));
      }
      if (ev.value) errs.push(invalid(child(p, 'valueFrom'), '', 'may not be specified when `value` is not empty'));
      const vf = ev.valueFrom;
      const vp = child(p, 'valueFrom');
      if (vf.fieldRef && !vf.fieldRef.fieldPath) errs.push(required(child(vp, 'fieldRef', 'fieldPath')));
      if (vf.resourceFieldRef && !vf.resourceFieldRef.resource) errs.push(required(child(vp, 'resourceFieldRef', 'resource')));
      for (const ref of ['configMapKeyRef', 'secretKeyRef'] as const) {
        const sel = vf[ref];
        if (!sel) continue;
        if (!sel.name) errs.push(required(child(vp, ref, 'name')));
        if (!sel.key) errs.push(required(child(vp, ref, 'key')));
        else for (const m of isConfigMapKey(sel.key)) errs.push(invalid(child(vp, ref, 'key'), sel.key, m));
      }
    }
  });
  return errs;
}

function validateVolumeMounts(mounts: VolumeMount[], volumes: ReadonlySet<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const paths = new Set<string>();
  mounts.forEach((m, i) => {
    const p = index(path, i);
    if (!m.name) errs.push(required(child(p, 'name')));
    else if (!volumes.has(m.name)) errs.push(notFound(child(p, 'name'), m.name));
    if (!m.mountPath) errs.push(required(child(p, 'mountPath')));
    else if (paths.has(m.mountPath)) errs.push(invalid(child(p, 'mountPath'), m.mountPath, 'must be unique'));
    else paths.add(m.mountPath);
  });
  return errs;
}

/** Exactly one handler: exec, httpGet, tcpSocket, grpc (probes) or sleep (lifecycle hooks). */
function validateHandler(h: Probe | LifecycleHandler, path: string, allowed: readonly string[]): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  const rec = h as Record<string, unknown>;
  for (const kind of allowed) {
    if (rec[kind] === undefined) continue;
    if (n > 0) {
      errs.push(forbidden(child(path, kind), 'may not specify more than 1 handler type'));
      continue;
    }
    n++;
    const hp = child(path, kind);
    if (kind === 'exec' && (h.exec?.command ?? []).length === 0) errs.push(required(child(hp, 'command')));
    if (kind === 'httpGet' && h.httpGet) {
      if (!h.httpGet.path) errs.push(required(child(hp, 'path')));
      errs.push(...validatePortNumOrName(h.httpGet.port, child(hp, 'port')));
      const scheme = h.httpGet.scheme ?? '';
      if (scheme !== 'HTTP' && scheme !== 'HTTPS') errs.push(notSupported(child(hp, 'scheme'), scheme, ['HTTP', 'HTTPS']));
    }
    if (kind === 'tcpSocket' && h.tcpSocket) errs.push(...validatePortNumOrName(h.tcpSocket.port, child(hp, 'port')));
    if (kind === 'grpc' && 'grpc' in h && h.grpc) {
      const port = h.grpc.port ?? 0;
      for (const m of isValidPortNum(port)) errs.push(invalid(child(hp, 'port'), port, m));
    }
  }
  if (n === 0) errs.push(required(path, 'must specify a handler type'));
  return errs;
}

const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'];
const LIFECYCLE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'sleep'];

function validateProbe(probe: Probe | undefined, path: string): FieldError[] {
  if (!probe) return [];
  const errs = validateHandler(probe, path, PROBE_HANDLERS);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    const v = probe[f] ?? 0;
    if (v < 0) errs.push(invalid(child(path, f), v, NONNEGATIVE));
  }
  const grace = probe.terminationGracePeriodSeconds;
  if (grace !== undefined && grace <= 0) {
    errs.push(invalid(child(path, 'terminationGracePeriodSeconds'), grace, 'must be greater than 0'));
  }
  return errs;
}

function validateProbes(ctr: Container, path: string, isInit: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const sidecar = isInit && ctr.restartPolicy === 'Always';
  if (isInit && !sidecar) {
    const noProbes = 'may not be set for init containers without restartPolicy=Always';
    for (const f of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
      if (ctr[f]) errs.push(forbidden(child(path, f), noProbes));
    }
    return errs;
  }
  errs.push(...validateProbe(ctr.livenessProbe, child(path, 'livenessProbe')));
  errs.push(...validateProbe(ctr.readinessProbe, child(path, 'readinessProbe')));
  errs.push(...validateProbe(ctr.startupProbe, child(path, 'startupProbe')));
  for (const f of ['livenessProbe', 'startupProbe'] as const) {
    const probe = ctr[f];
    if (probe && (probe.successThreshold ?? 1) !== 1) {
      errs.push(invalid(child(path, f, 'successThreshold'), probe.successThreshold, 'must be 1'));
    }
  }
  if (ctr.readinessProbe?.terminationGracePeriodSeconds !== undefined) {
    errs.push(
      invalid(child(path, 'readinessProbe', 'terminationGracePeriodSeconds'), ctr.readinessProbe.terminationGracePeriodSeconds, 'must not be set for readinessProbes'),
    );
  }
  return errs;
}

/**
 * One container's own rules (not its name, which validateContainers checks across the pod).
 * `gracePeriod`: the pod's terminationGracePeriodSeconds, which bounds a lifecycle `sleep`.
 */
export function validateContainer(ctr: Container, path: string, volumes: ReadonlySet<string>, isInit: boolean, gracePeriod?: number): FieldError[] {
  const errs: FieldError[] = [];
  const image = ctr.image ?? '';
  if (image === '') errs.push(required(child(path, 'image')));
  else if (image !== image.trim()) errs.push(invalid(child(path, 'image'), image, 'must not have leading or trailing whitespace'));
  const pull = ctr.imagePullPolicy ?? '';
  if (pull === '') errs.push(required(child(path, 'imagePullPolicy')));
  else if (!PULL_POLICIES.includes(pull)) errs.push(notSupported(child(path, 'imagePullPolicy'), pull, PULL_POLICIES));
  const tmp = ctr.terminationMessagePolicy;
  if (tmp !== undefined && !TERMINATION_MESSAGE_POLICIES.includes(tmp)) {
    errs.push(notSupported(child(path, 'terminationMessagePolicy'), tmp, TERMINATION_MESSAGE_POLICIES));
  }
  if (ctr.restartPolicy !== undefined) {
    if (!isInit) errs.push(forbidden(child(path, 'restartPolicy'), 'may not be set for non-init containers'));
    else if (ctr.restartPolicy !== 'Always') errs.push(notSupported(child(path, 'restartPolicy'), ctr.restartPolicy, ['Always']));
  }
  errs.push(...validateContainerPorts(ctr.ports ?? [], child(path, 'ports')));
  errs.push(...validateEnv(ctr.env ?? [], child(path, 'env')));
  errs.push(...validateVolumeMounts(ctr.volumeMounts ?? [], volumes, child(path, 'volumeMounts')));
  errs.push(...validateProbes(ctr, path, isInit));
  for (const hook of ['postStart', 'preStop'] as const) {
    const h = ctr.lifecycle?.[hook];
    if (!h) continue;
    const hp = child(path, 'lifecycle', hook);
    errs.push(...validateHandler(h, hp, LIFECYCLE_HANDLERS));
    if (h.sleep && gracePeriod !== undefined) errs.push(...validateSleepAction(h.sleep.seconds, gracePeriod, child(hp, 'sleep', 'seconds')));
  }
  return errs;
}

/**
 * kube-apiserver 1.32's validateSleepAction with PodLifecycleSleepActionAllowZero off (alpha in
 * 1.32): more than 0 and at most the pod's grace period.
 */
function validateSleepAction(seconds: number, gracePeriod: number, path: string): FieldError[] {
  if (seconds > 0 && seconds <= gracePeriod) return [];
  return [invalid(path, seconds, `must be greater than 0 and less than terminationGracePeriodSeconds (${gracePeriod}). Please enable PodLifecycleSleepActionAllowZero feature gate if you need a sleep of zero duration.`)];
}

/**
 * Regular and init containers of one pod spec. Names are unique across both lists, as the
 * kubelet keys containers by name.
 */
export function validateContainers(
  containers: Container[],
  initContainers: Container[],
  volumes: ReadonlySet<string>,
  specPath: string,
  gracePeriod?: number,
): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  const visit = (list: Container[], field: string, isInit: boolean): void => {
    list.forEach((ctr, i) => {
      const p = index(child(specPath, field), i);
      const namePath = child(p, 'name');
      if (!ctr.name) errs.push(required(namePath));
      else for (const m of isDNS1123Label(ctr.name)) errs.push(invalid(namePath, ctr.name, m));
      if (ctr.name) {
        if (names.has(ctr.name)) errs.push(duplicate(namePath, ctr.name));
        else names.add(ctr.name);
      }
      errs.push(...validateContainer(ctr, p, volumes, isInit, gracePeriod));
    });
  };
  visit(initContainers, 'initContainers', true);
  if (containers.length === 0) errs.push(required(child(specPath, 'containers')));
  visit(containers, 'containers', false);
  return errs;
}
