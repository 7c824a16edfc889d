/** Serializing objects for `-o yaml|json|name`, with metadata keys ordered as kubectl shows them. */
import { stringify } from 'yaml';
import type { KObject } from '../../base/model/object.js';
import type { Kind } from '../../base/model/object.js';

function ordered(o: KObject): KObject {
  const { apiVersion, kind, metadata, ...rest } = o as KObject & Record<string, unknown>;
  const md = metadata ? Object.fromEntries(Object.entries(metadata).sort(([a], [b]) => a.localeCompare(b))) : undefined;
  return { apiVersion, kind, metadata: md, ...rest } as KObject;
}

export function toYaml(objects: KObject[], single: boolean): string {
  if (single && objects.length === 1) return stringify(ordered(objects[0]!));
  return stringify({ apiVersion: 'v1', kind: 'List', items: objects.map(ordered), metadata: { resourceVersion: '' } });
}

export function toJson(objects: KObject[], single: boolean): string {
  if (single && objects.length === 1) return JSON.stringify(ordered(objects[0]!), null, 4);
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects.map(ordered), metadata: { resourceVersion: '' } }, null, 4);
}

export function toName(kind: Kind, o: KObject): string {
  const group = o.apiVersion?.includes('/') ? `.${o.apiVersion.split('/')[0]}` : '';
  return `${kind.toLowerCase()}${group}/${o.metadata?.name}`;
}
