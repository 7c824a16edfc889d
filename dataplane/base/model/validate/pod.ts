/**
 * Pod and pod-template validation (ValidatePodSpec, ValidatePodTemplateSpec): volumes, the
 * containers, restart and DNS policies, DNS config, host names, node selection fields.
 */
import type { Pod, PodSpec, PodTemplateSpec, Volume } from 'kubernetes-types/core/v1.js';
import { fieldsOf } from '../schema/known-fields.js';
import { child, duplicate, forbidden, index, invalid, notSupported, required, type FieldError } from './field-error.js';
import { validateContainers } from './containers.js';
import { validateEphemeralContainers } from './ephemeral-containers.js';
import { IP_MSG, isDNS1123Label, isDNS1123Subdomain, nameIsDNSSubdomain, parseIPFamily } from './formats.js';
import { validateAnnotations, validateLabels, validateObjectMeta } from './object-meta.js';

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const FILE_MODE_MSG = 'must be a number between 0 and 0777 (octal), both inclusive';

/** Every volume source the API knows: all fields of Volume but its name. */
const VOLUME_SOURCES = Object.keys(fieldsOf('v1/Volume') ?? {}).filter((k) => k !== 'name');

function validateFileMode(mode: number | undefined, path: string): FieldError[] {
  return mode !== undefined && (mode < 0 || mode > 0o777) ? [invalid(path, mode, FILE_MODE_MSG)] : [];
}

function validateKeyToPaths(items: { key?: string; path?: string }[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (items ?? []).forEach((item, i) => {
    const p = index(path, i);
    if (!item.key) errs.push(required(child(p, 'key')));
    const rel = item.path ?? '';
    if (!rel) errs.push(required(child(p, 'path')));
    else if (rel.startsWith('/')) errs.push(invalid(child(p, 'path'), rel, 'must be a relative path'));
    else if (rel.split('/').includes('..')) errs.push(invalid(child(p, 'path'), rel, "must not contain '..'"));
  });
  return errs;
}

function validateVolumeSource(vol: Volume, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const present = VOLUME_SOURCES.filter((k) => (vol as unknown as Record<string, unknown>)[k] !== undefined);
  if (present.length === 0) return [required(path, 'must specify a volume type')];
  for (const extra of present.slice(1)) errs.push(forbidden(child(path, extra), 'may not specify more than 1 volume type'));
  if (vol.secret) {
    const p = child(path, 'secret');
    if (!vol.secret.secretName) errs.push(required(child(p, 'secretName')));
    errs.push(...validateFileMode(vol.secret.defaultMode, child(p, 'defaultMode')));
    errs.push(...validateKeyToPaths(vol.secret.items, child(p, 'items')));
  }
  if (vol.configMap) {
    const p = child(path, 'configMap');
    if (!vol.configMap.name) errs.push(required(child(p, 'name')));
    errs.push(...validateFileMode(vol.configMap.defaultMode, child(p, 'defaultMode')));
    errs.push(...validateKeyToPaths(vol.configMap.items, child(p, 'items')));
  }
  if (vol.hostPath && !vol.hostPath.path) errs.push(required(child(path, 'hostPath', 'path')));
  if (vol.persistentVolumeClaim && !vol.persistentVolumeClaim.claimName) {
    errs.push(required(child(path, 'persistentVolumeClaim', 'claimName')));
  }
  return errs;
}

/** The volume names, and the errors of the volumes list. */
function validateVolumes(volumes: Volume[], path: string): { names: Set<string>; errs: FieldError[] } {
  const names = new Set<string>();
  const errs: FieldError[] = [];
  volumes.forEach((vol, i) => {
    const p = index(path, i);
    const namePath = child(p, 'name');
    if (!vol.name) errs.push(required(namePath));
    else for (const m of isDNS1123Label(vol.name)) errs.push(invalid(namePath, vol.name, m));
    if (vol.name && names.has(vol.name)) errs.push(duplicate(namePath, vol.name));
    else if (vol.name) names.add(vol.name);
    errs.push(...validateVolumeSource(vol, p));
  });
  return { names, errs };
}

function validateDNS(spec: PodSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const policy = spec.dnsPolicy ?? '';
  if (policy === '') errs.push(required(child(path, 'dnsPolicy')));
  else if (!DNS_POLICIES.includes(policy)) errs.push(notSupported(child(path, 'dnsPolicy'), policy, DNS_POLICIES));
  const cfg = spec.dnsConfig;
  const cfgPath = child(path, 'dnsConfig');
  if (policy === 'None') {
    if (!cfg) return [...errs, required(cfgPath, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if ((cfg.nameservers ?? []).length === 0) {
      return [...errs, required(child(cfgPath, 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
    }
  }
  if (!cfg) return errs;
  const ns = cfg.nameservers ?? [];
  if (ns.length > 3) errs.push(invalid(child(cfgPath, 'nameservers'), ns, 'must not have more than 3 nameservers'));
  ns.forEach((ip, i) => {
    if (parseIPFamily(ip) === 0) errs.push(invalid(index(child(cfgPath, 'nameservers'), i), ip, IP_MSG));
  });
  const searches = cfg.searches ?? [];
  if (searches.length > 32) errs.push(invalid(child(cfgPath, 'searches'), searches, 'must not have more than 32 search paths'));
  if (searches.join(' ').length > 2048) {
    errs.push(invalid(child(cfgPath, 'searches'), searches, 'must not have more than 2048 characters (including spaces) in the search list'));
  }
  searches.forEach((s, i) => {
    const trimmed = s.replace(/\.$/, '');
    for (const m of isDNS1123Subdomain(trimmed)) errs.push(invalid(index(child(cfgPath, 'searches'), i), trimmed, m));
  });
  (cfg.options ?? []).forEach((o, i) => {
    if (!o.name) errs.push(required(index(child(cfgPath, 'options'), i), 'Option.Name must not be empty'));
  });
  return errs;
}

/** `claimVolumes`: volumes a StatefulSet's pods get from its volumeClaimTemplates, which its template's mounts may name. */
export function validatePodSpec(spec: PodSpec | undefined, path: string, claimVolumes: readonly string[] = []): FieldError[] {
  const s: PodSpec = spec ?? { containers: [] };
  const { names, errs } = validateVolumes(s.volumes ?? [], child(path, 'volumes'));
  for (const n of claimVolumes) names.add(n);
  errs.push(...validateContainers(s.containers ?? [], s.initContainers ?? [], names, path, s.terminationGracePeriodSeconds));
  errs.push(...validateEphemeralContainers(s, names, path));
  const rp = s.restartPolicy ?? '';
  if (rp === '') errs.push(required(child(path, 'restartPolicy')));
  else if (!RESTART_POLICIES.includes(rp)) errs.push(notSupported(child(path, 'restartPolicy'), rp, RESTART_POLICIES));
  errs.push(...validateDNS(s, path));
  errs.push(...validateLabels(s.nodeSelector, child(path, 'nodeSelector')));
  if (s.serviceAccountName) {
    for (const m of nameIsDNSSubdomain(s.serviceAccountName, false)) {
      errs.push(invalid(child(path, 'serviceAccountName'), s.serviceAccountName, m));
    }
  }
  if (s.nodeName) for (const m of nameIsDNSSubdomain(s.nodeName, false)) errs.push(invalid(child(path, 'nodeName'), s.nodeName, m));
  if (s.activeDeadlineSeconds !== undefined && (s.activeDeadlineSeconds < 1 || s.activeDeadlineSeconds > 2147483647)) {
    errs.push(invalid(child(path, 'activeDeadlineSeconds'), s.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  }
  if (s.hostname) for (const m of isDNS1123Label(s.hostname)) errs.push(invalid(child(path, 'hostname'), s.hostname, m));
  if (s.subdomain) for (const m of isDNS1123Label(s.subdomain)) errs.push(invalid(child(path, 'subdomain'), s.subdomain, m));
  (s.hostAliases ?? []).forEach((ha, i) => {
    const p = index(child(path, 'hostAliases'), i);
    if (parseIPFamily(ha.ip ?? '') === 0) errs.push(invalid(child(p, 'ip'), ha.ip ?? '', IP_MSG));
    (ha.hostnames ?? []).forEach((h, j) => {
      for (const m of isDNS1123Subdomain(h)) errs.push(invalid(index(child(p, 'hostnames'), j), h, m));
    });
  });
  return errs;
}

/** A template's labels and annotations are reported under the template path, as upstream does. */
export function validatePodTemplateSpec(tpl: PodTemplateSpec | undefined, path: string, claimVolumes: readonly string[] = []): FieldError[] {
  const errs = [
    ...validateLabels(tpl?.metadata?.labels, child(path, 'labels')),
    ...validateAnnotations(tpl?.metadata?.annotations, child(path, 'annotations')),
    ...validatePodSpec(tpl?.spec, child(path, 'spec'), claimVolumes),
  ];
  if ((tpl?.spec?.ephemeralContainers ?? []).length > 0) {
    errs.push(forbidden(child(path, 'spec', 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  }
  return errs;
}

export function validatePod(pod: Pod): FieldError[] {
  return [...validateObjectMeta(pod.metadata, true, nameIsDNSSubdomain), ...validatePodSpec(pod.spec, 'spec')];
}
