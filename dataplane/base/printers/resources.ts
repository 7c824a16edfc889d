/** Resource names as kubectl accepts them: plural, singular, short name, Kind (model/api-resources.ts). */
import type { Kind } from '../model/object.js';
import { API_RESOURCES, findResource, resourceOf } from '../model/api-resources.js';

export function resolveKind(name: string): Kind {
  const r = findResource(name);
  if (!r) throw new Error(`the server doesn't have a resource type "${name}"`);
  return r.kind;
}

export function pluralOf(kind: Kind): string {
  return resourceOf(kind).plural;
}

export const RESOURCE_HELP = API_RESOURCES.map((r) => (r.shortNames.length ? `${r.plural} (${r.shortNames.join(', ')})` : r.plural)).join(', ');
