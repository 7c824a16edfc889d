/**
 * Field selectors (k8s.io/apimachinery/pkg/fields): `a=b`, `a==b`, `a!=b`, ANDed with commas,
 * `\` escaping `,`, `=` and `!` inside values. Each kind supports only the fields its registry
 * lists (k8s pkg/apis/core/v1/conversion.go and the apps registries): every kind
 * `metadata.name`, namespaced ones `metadata.namespace` too; asking for another is 400
 * `field label not supported: <f>`.
 */
import type { KObject, Kind } from '../base/model/object.js';
import { KINDS } from '../base/model/object.js';

export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

export class FieldSelectorError extends Error {}

type Getter = (o: KObject) => string;
type Json = Record<string, unknown>;
const at = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Json)[k] : undefined), o);
const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

const META: Record<string, Getter> = {
  'metadata.name': (o) => str(o.metadata?.name),
};
const NAMESPACED: Record<string, Getter> = {
  'metadata.namespace': (o) => str(o.metadata?.namespace),
};

const BY_KIND: Partial<Record<Kind, Record<string, Getter>>> = {
  Pod: {
    'spec.nodeName': (o) => str(at(o, 'spec', 'nodeName')),
    'spec.restartPolicy': (o) => str(at(o, 'spec', 'restartPolicy')),
    'spec.schedulerName': (o) => str(at(o, 'spec', 'schedulerName')),
    'spec.serviceAccountName': (o) => str(at(o, 'spec', 'serviceAccountName')),
    'spec.hostNetwork': (o) => String(at(o, 'spec', 'hostNetwork') === true),
    'status.phase': (o) => str(at(o, 'status', 'phase')),
    'status.podIP': (o) => str(at(o, 'status', 'podIP')),
    'status.podIPs': (o) => str((at(o, 'status', 'podIPs') as Array<{ ip?: string }> | undefined)?.[0]?.ip),
    'status.nominatedNodeName': (o) => str(at(o, 'status', 'nominatedNodeName')),
  },
  Event: {
    'involvedObject.kind': (o) => str(at(o, 'involvedObject', 'kind')),
    'involvedObject.namespace': (o) => str(at(o, 'involvedObject', 'namespace')),
    'involvedObject.name': (o) => str(at(o, 'involvedObject', 'name')),
    'involvedObject.uid': (o) => str(at(o, 'involvedObject', 'uid')),
    'involvedObject.apiVersion': (o) => str(at(o, 'involvedObject', 'apiVersion')),
    'involvedObject.resourceVersion': (o) => str(at(o, 'involvedObject', 'resourceVersion')),
    'involvedObject.fieldPath': (o) => str(at(o, 'involvedObject', 'fieldPath')),
    reason: (o) => str(at(o, 'reason')),
    reportingComponent: (o) => str(at(o, 'reportingComponent')),
    source: (o) => str(at(o, 'source', 'component')),
    type: (o) => str(at(o, 'type')),
  },
  Node: { 'spec.unschedulable': (o) => String(at(o, 'spec', 'unschedulable') === true) },
  Namespace: { 'status.phase': (o) => str(at(o, 'status', 'phase') ?? 'Active') },
  Secret: { type: (o) => str(at(o, 'type')) },
  Service: { 'spec.clusterIP': (o) => str(at(o, 'spec', 'clusterIP')), 'spec.type': (o) => str(at(o, 'spec', 'type')) },
  ReplicaSet: { 'status.replicas': (o) => str(at(o, 'status', 'replicas') ?? 0) },
};

const GETTERS = new Map<Kind, Record<string, Getter>>();
function gettersOf(kind: Kind): Record<string, Getter> {
  let g = GETTERS.get(kind);
  if (!g) GETTERS.set(kind, (g = { ...META, ...(KINDS[kind].namespaced ? NAMESPACED : {}), ...BY_KIND[kind] }));
  return g;
}

/** Splits on unescaped `sep`, keeping escapes for the next step. */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unescape(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '\\') {
      const n = v[i + 1];
      if (n === undefined || !'\\,=!'.includes(n)) throw new FieldSelectorError(`invalid field selector: invalid escape sequence in value: ${JSON.stringify(v)}`);
      out += n;
      i++;
    } else if (c === ',' || c === '=') {
      throw new FieldSelectorError(`invalid field selector: unescaped ${c} in value: ${JSON.stringify(v)}`);
    } else out += c;
  }
  return out;
}

/** Parses a selector for `kind`; throws FieldSelectorError with the apiserver's message. */
export function parseFieldSelector(selector: string, kind: Kind): FieldRequirement[] {
  const getters = gettersOf(kind);
  const reqs: FieldRequirement[] = [];
  if (selector.trim() === '') return reqs;
  for (const term of splitUnescaped(selector, ',')) {
    if (term === '') continue;
    const m = /^([^=!]*?)(!=|==|=)(.*)$/s.exec(term);
    if (!m) throw new FieldSelectorError(`invalid field selector: invalid selector: '${term}'; can't understand '${term}'`);
    const field = m[1]!.trim();
    if (!Object.prototype.hasOwnProperty.call(getters, field)) throw new FieldSelectorError(`field label not supported: ${field}`);
    reqs.push({ field, operator: m[2] === '!=' ? '!=' : '=', value: unescape(m[3]!) });
  }
  return reqs;
}

export function matchesFields(kind: Kind, reqs: readonly FieldRequirement[], obj: KObject): boolean {
  if (reqs.length === 0) return true;
  const getters = gettersOf(kind);
  for (const r of reqs) {
    const v = getters[r.field]!(obj);
    if ((v === r.value) !== (r.operator === '=')) return false;
  }
  return true;
}

/** `metadata.name=X` pins a single object: the list can be a lookup. */
export function pinnedName(reqs: readonly FieldRequirement[]): string | undefined {
  return reqs.find((r) => r.field === 'metadata.name' && r.operator === '=')?.value;
}
