/** Small manifest builders for the model tests: a valid object, with overrides per row. */
import type { KObject } from '../../../dataplane/base/model/object.js';
import { validateObject } from '../../../dataplane/base/model/validate/index.js';

type Json = Record<string, unknown>;

export function service(spec: Json, metadata: Json = {}): KObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', ...metadata }, spec };
}

export function container(extra: Json = {}): Json {
  return { name: 'app', image: 'nginx:1.27', ...extra };
}

export function pod(spec: Json, metadata: Json = {}): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ...metadata }, spec };
}

export function podSpec(extra: Json = {}): Json {
  return { containers: [container()], ...extra };
}

export function template(labels: Record<string, string> = { app: 'web' }, spec: Json = podSpec()): Json {
  return { metadata: { labels }, spec };
}

export function workload(kind: 'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet', spec: Json): KObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name: 'web' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: template(), ...spec },
  };
}

/** The kubectl lines validateObject reports. */
export function messages(obj: unknown): string[] {
  return validateObject(obj).map((e) => e.message);
}
