#!/usr/bin/env node
/**
 * Generates, from the upstream Kubernetes API sources, the three schema artefacts knet's API
 * code reads (see dataplane/base/patch/README.md for the source, its version and the gaps):
 *
 *   dataplane/base/patch/api-schema.json       the type tree of every kind knet stores, with the
 *                                               strategic-merge-patch metadata (patch strategy,
 *                                               merge key) and the server-side-apply list/map
 *                                               types (x-kubernetes-list-type, -list-map-keys,
 *                                               -map-type); read by SMP, SSA and managedFields
 *   dataplane/apiserver/openapi/schemas.json   OpenAPI v3 component schemas for those kinds, with
 *                                               descriptions, enums and the x-kubernetes-*
 *                                               extensions, as kube-openapi writes them
 *   dataplane/apiserver/protobuf/descriptors.json  protobufjs descriptors of the kinds' messages
 *                                               (from generated.proto) plus, per message, what
 *                                               the JSON form inlines or omits when empty
 *
 * Source: k8s.io/api and k8s.io/apimachinery v0.32.3 (Kubernetes 1.32.3), as Debian packages them
 * (golang-k8s-api-dev 0.32.3-1, golang-k8s-apimachinery-dev 0.32.3-2):
 *   - generated.proto: messages, field numbers and resolved field types;
 *   - the Go structs: json tags (names, omitempty, inline), doc comments and their markers
 *     (+patchStrategy, +patchMergeKey, +listType, +listMapKey, +mapType, +structType, +optional,
 *     +required, +enum), read the way kube-openapi's generator reads them.
 * `scripts/fetch-k8s-api-sources.sh` downloads and unpacks them.
 *
 * Run: node scripts/gen-api-schema.mjs [--source DIR]   (default ~/.cache/knet/k8s-api-sources)
 *      node scripts/gen-api-schema.mjs --check          exits 1 when a committed file is stale
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { enumDescriptionLines, generateDescription, goPackage, markers } from './k8s-go-source.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const args = process.argv.slice(2);
const check = args.includes('--check');
const sourceArg = args.indexOf('--source');
const sourceDir = sourceArg >= 0 ? args[sourceArg + 1] : (process.env.KNET_K8S_API_SOURCES ?? path.join(os.homedir(), '.cache/knet/k8s-api-sources'));
const src = path.join(sourceDir, 'root/usr/share/gocode/src');
if (!existsSync(path.join(src, 'k8s.io/api/core/v1/generated.proto'))) {
  console.error(`error: the Kubernetes API sources are not in ${sourceDir}; run scripts/fetch-k8s-api-sources.sh first`);
  process.exit(2);
}

const SOURCE = 'k8s.io/api v0.32.3 + k8s.io/apimachinery v0.32.3 (Kubernetes 1.32.3; Debian golang-k8s-api-dev 0.32.3-1, golang-k8s-apimachinery-dev 0.32.3-2)';

/** The kinds knet stores (dataplane/base/model/object.ts KINDS; test/unit/patch/generated-kinds.test.ts checks they agree) and their Go package. */
const KINDS = {
  Namespace: 'k8s.io/api/core/v1',
  Node: 'k8s.io/api/core/v1',
  Pod: 'k8s.io/api/core/v1',
  Service: 'k8s.io/api/core/v1',
  Endpoints: 'k8s.io/api/core/v1',
  Secret: 'k8s.io/api/core/v1',
  ConfigMap: 'k8s.io/api/core/v1',
  ServiceAccount: 'k8s.io/api/core/v1',
  Event: 'k8s.io/api/core/v1',
  Deployment: 'k8s.io/api/apps/v1',
  ReplicaSet: 'k8s.io/api/apps/v1',
  StatefulSet: 'k8s.io/api/apps/v1',
  DaemonSet: 'k8s.io/api/apps/v1',
  Job: 'k8s.io/api/batch/v1',
  CronJob: 'k8s.io/api/batch/v1',
  EndpointSlice: 'k8s.io/api/discovery/v1',
  Ingress: 'k8s.io/api/networking/v1',
  IngressClass: 'k8s.io/api/networking/v1',
  NetworkPolicy: 'k8s.io/api/networking/v1',
  Lease: 'k8s.io/api/coordination/v1',
  PersistentVolume: 'k8s.io/api/core/v1',
  PersistentVolumeClaim: 'k8s.io/api/core/v1',
  ReplicationController: 'k8s.io/api/core/v1',
  LimitRange: 'k8s.io/api/core/v1',
  ResourceQuota: 'k8s.io/api/core/v1',
  HorizontalPodAutoscaler: 'k8s.io/api/autoscaling/v2',
  PodDisruptionBudget: 'k8s.io/api/policy/v1',
  ClusterRole: 'k8s.io/api/rbac/v1',
  ClusterRoleBinding: 'k8s.io/api/rbac/v1',
  Role: 'k8s.io/api/rbac/v1',
  RoleBinding: 'k8s.io/api/rbac/v1',
  PriorityClass: 'k8s.io/api/scheduling/v1',
  StorageClass: 'k8s.io/api/storage/v1',
};
/**
 * Kinds knet does not store but takes as request bodies, so kubectl's protobuf bodies decode:
 * TokenRequest (`kubectl create token`, POST serviceaccounts/NAME/token), TokenReview and the
 * self-reviews kubectl's `auth whoami` and `auth can-i` send.
 */
const BODY_KINDS = {
  TokenRequest: 'k8s.io/api/authentication/v1',
  TokenReview: 'k8s.io/api/authentication/v1',
  // `kubectl auth whoami` and `kubectl auth can-i [--list]`.
  SelfSubjectReview: 'k8s.io/api/authentication/v1',
  SelfSubjectAccessReview: 'k8s.io/api/authorization/v1',
  SelfSubjectRulesReview: 'k8s.io/api/authorization/v1',
};
/** Types every group-version document carries besides the kinds (the PATCH body). */
const EXTRA_SCHEMAS = ['k8s.io/apimachinery/pkg/apis/meta/v1.Patch', 'k8s.io/apimachinery/pkg/apis/meta/v1.Status', 'k8s.io/apimachinery/pkg/apis/meta/v1.DeleteOptions'];
/** The query parameters of each verb are the fields of these option structs (upstream's text). */
const OPTIONS = ['GetOptions', 'ListOptions', 'CreateOptions', 'UpdateOptions', 'PatchOptions', 'DeleteOptions'];

/**
 * Types whose JSON form is not their Go struct: upstream gives them OpenAPISchemaType() and
 * custom (un)marshalling. Their schema is kube-openapi's for that method; for patching they are
 * scalars (patch-schema type in `scalar`).
 */
const SPECIAL = {
  'k8s.io/apimachinery/pkg/apis/meta/v1.Time': { schema: { type: 'string', format: 'date-time' }, scalar: 'string' },
  'k8s.io/apimachinery/pkg/apis/meta/v1.MicroTime': { schema: { type: 'string', format: 'date-time' }, scalar: 'string' },
  'k8s.io/apimachinery/pkg/api/resource.Quantity': { schema: { oneOf: [{ type: 'string' }, { type: 'number' }] }, scalar: 'string' },
  'k8s.io/apimachinery/pkg/util/intstr.IntOrString': { schema: { type: 'string', format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] }, scalar: 'int-or-string' },
  'k8s.io/apimachinery/pkg/runtime.RawExtension': { schema: { type: 'object' }, scalar: 'object' },
  'k8s.io/apimachinery/pkg/apis/meta/v1.FieldsV1': { schema: { type: 'object' }, scalar: 'object' },
  'k8s.io/apimachinery/pkg/apis/meta/v1.Patch': { schema: { type: 'object' }, scalar: 'object' },
};

/** "k8s.io/api/core/v1.PodSpec" → "io.k8s.api.core.v1.PodSpec" (the OpenAPI definition name). */
const openapiName = (id) => `io.k8s.${id.slice('k8s.io/'.length).replaceAll('/', '.')}`;
/** ".k8s.io.api.core.v1.PodSpec" (proto full name) → "k8s.io/api/core/v1.PodSpec". */
function idOfProto(fullName) {
  const parts = fullName.replace(/^\./, '').split('.');
  const name = parts.pop();
  return `${parts[0]}.${parts[1]}/${parts.slice(2).join('/')}.${name}`;
}
const protoNameOf = (id) => {
  const [pkg, name] = splitId(id);
  return `${pkg.replace('k8s.io/', 'k8s.io.').replaceAll('/', '.')}.${name}`;
};
function splitId(id) {
  const dot = id.lastIndexOf('.');
  return [id.slice(0, dot), id.slice(dot + 1)];
}

// ---- proto ----
const protoRoot = new protobuf.Root();
protoRoot.resolvePath = (_origin, target) => path.join(src, target);
const protoFiles = [...new Set([...Object.values(KINDS), ...Object.values(BODY_KINDS)])].map((p) => `${p}/generated.proto`);
protoFiles.push('k8s.io/apimachinery/pkg/runtime/generated.proto');
protoRoot.loadSync(protoFiles, { keepCase: true, alternateCommentMode: true });
protoRoot.resolveAll();

// ---- Go ----
function goStruct(id) {
  const [pkgPath, name] = splitId(id);
  const s = goPackage(src, pkgPath).structs.get(name);
  if (!s) throw new Error(`no Go struct ${id}`);
  return s;
}
/** Resolves `metav1.ObjectMeta` / `PodSpec` / `*PodSpec` / `[]Container` written in a package to an id. */
function goTypeId(pkgPath, imports, expr) {
  const base = expr.replace(/^(\*|\[\])+/, '');
  const dot = base.indexOf('.');
  if (dot < 0) return `${pkgPath}.${base}`;
  const pkg = imports.get(base.slice(0, dot));
  if (!pkg) throw new Error(`unknown package alias in ${expr} (${pkgPath})`);
  return `${pkg}.${base.slice(dot + 1)}`;
}

/**
 * A struct's JSON fields in Go order, inline embeddings spliced in (as encoding/json does):
 * [{ json, goField, ownerId, protoField? }].
 */
function jsonFields(id) {
  const [pkgPath] = splitId(id);
  const s = goStruct(id);
  const msg = protoRoot.lookupTypeOrEnum(protoNameOf(id));
  const out = [];
  for (const f of s.fields) {
    const json = f.tags.json;
    if (!json || json.name === '-') continue;
    if (json.inline || (f.embedded && json.name === '')) {
      const inner = goTypeId(pkgPath, s.imports, f.goType);
      for (const x of jsonFields(inner)) out.push({ ...x, via: f.tags.protobuf?.name });
      continue;
    }
    const protoField = f.tags.protobuf ? msg.fields[f.tags.protobuf.name] : undefined;
    if (f.tags.protobuf && !protoField) throw new Error(`${id}.${f.goName}: proto field ${f.tags.protobuf.name} missing`);
    out.push({ json: json.name, goField: f, pkgPath, imports: s.imports, protoField });
  }
  return out;
}

const SCALARS = { string: ['string'], bool: ['boolean'], int32: ['integer', 'int32'], int64: ['integer', 'int64'], double: ['number', 'double'], float: ['number', 'float'], bytes: ['string', 'byte'] };
const GO_SCALARS = { string: 'string', bool: 'bool', int32: 'int32', int64: 'int64' };

/** A field's element type: a proto scalar name or a type id. */
function elemOf(field) {
  if (field.protoField) return field.protoField.resolvedType ? idOfProto(field.protoField.resolvedType.fullName) : field.protoField.type;
  const t = field.goField.goType;
  if (GO_SCALARS[t]) return GO_SCALARS[t];
  throw new Error(`field ${field.json} (${t}) has no protobuf tag and is no Go scalar`);
}
const shapeOf = (field) => (field.protoField?.map ? 'map' : field.protoField?.repeated ? 'list' : 'one');

// ---- walk ----
/** Every type reachable from `roots`, in visiting order. */
function closure(roots) {
  const seen = new Set();
  const order = [];
  const visit = (id) => {
    if (seen.has(id)) return;
    seen.add(id);
    order.push(id);
    if (SPECIAL[id]) return;
    for (const f of jsonFields(id)) {
      const elem = elemOf(f);
      if (!SCALARS[elem]) visit(elem);
    }
  };
  roots.forEach(visit);
  return order;
}
const kindIds = Object.entries(KINDS).map(([kind, pkg]) => `${pkg}.${kind}`);
const order = closure(kindIds);
/** The OpenAPI documents also describe the list kinds and the bodies of the other verbs. */
const openapiOrder = closure([...kindIds, ...kindIds.map((id) => `${id}List`), ...EXTRA_SCHEMAS]);

// ---- field metadata ----
const problems = [];
function fieldMeta(id, f) {
  const m = markers(f.goField.comments);
  const meta = {};
  const ps = m.patchStrategy?.[0];
  const pk = m.patchMergeKey?.[0];
  if (ps) meta.patchStrategy = ps;
  if (pk) meta.patchMergeKey = pk;
  // kube-openapi refuses a marker that disagrees with the struct tag the compiled-in SMP reads.
  if ((ps ?? '') !== (f.goField.tags.patchStrategy ?? '') || (pk ?? '') !== (f.goField.tags.patchMergeKey ?? '')) {
    problems.push(`${id}.${f.json}: patch markers ${ps}/${pk} differ from struct tags ${f.goField.tags.patchStrategy}/${f.goField.tags.patchMergeKey}`);
  }
  if (m.listType) meta.listType = m.listType[0];
  if (m.listMapKey) meta.listMapKeys = m.listMapKey;
  if (m.mapType) meta.mapType = m.mapType[0];
  // A non-pointer struct field is always there in Go's view of an object (an empty struct when
  // unset), so server-side apply's compare never sees it added or removed itself.
  const elem = elemOf(f);
  if (shapeOf(f) === 'one' && !SCALARS[elem] && !SPECIAL[elem] && !f.goField.goType.startsWith('*')) meta.valueStruct = true;
  // Server-side apply fills a missing list-map key from its default (`+default="TCP"` on ports).
  const def = m.default?.[0];
  if (def !== undefined && !def.startsWith('ref(')) meta.default = JSON.parse(def);
  return meta;
}
function isRequired(f) {
  const m = markers(f.goField.comments);
  if (m.optional) return false;
  if (m.required) return true;
  return !f.goField.tags.json.omitempty;
}
function enumOf(f) {
  const t = f.goField.goType.replace(/^\*/, '');
  if (t.startsWith('[]') || t.startsWith('map[')) return undefined;
  const id = goTypeId(f.pkgPath, f.imports, t);
  const [pkgPath, name] = splitId(id);
  if (!id.startsWith('k8s.io/')) return undefined;
  return goPackage(src, pkgPath).enums.get(name);
}

// ---- 1. patch schema ----
const patchTypes = {};
for (const id of order) {
  if (SPECIAL[id]) continue;
  const fields = {};
  for (const f of jsonFields(id)) {
    const elem = elemOf(f);
    const ref = SPECIAL[elem]?.scalar ?? (SCALARS[elem] ? SCALARS[elem][0] : openapiName(elem));
    const type = { map: `{}${ref}`, list: `[]${ref}`, one: ref }[shapeOf(f)];
    const meta = fieldMeta(id, f);
    fields[f.json] = Object.keys(meta).length ? { type, ...meta } : type;
  }
  const entry = { fields };
  const structType = markers(goStruct(id).comments).structType?.[0];
  if (structType) entry.structType = structType;
  patchTypes[openapiName(id)] = entry;
}
const kindsOut = Object.fromEntries(Object.entries(KINDS).map(([k, pkg]) => [k, openapiName(`${pkg}.${k}`)]));
const patchSchema = { source: SOURCE, kinds: kindsOut, types: sortKeys(patchTypes) };

// ---- 2. OpenAPI v3 component schemas ----
const GROUPS = {
  'k8s.io/api/authorization/v1': ['authorization.k8s.io', 'v1'],
  'k8s.io/api/coordination/v1': ['coordination.k8s.io', 'v1'],
  'k8s.io/api/autoscaling/v2': ['autoscaling', 'v2'],
  'k8s.io/api/policy/v1': ['policy', 'v1'],
  'k8s.io/api/rbac/v1': ['rbac.authorization.k8s.io', 'v1'],
  'k8s.io/api/scheduling/v1': ['scheduling.k8s.io', 'v1'],
  'k8s.io/api/storage/v1': ['storage.k8s.io', 'v1'],
  'k8s.io/api/authentication/v1': ['authentication.k8s.io', 'v1'], 'k8s.io/api/core/v1': ['', 'v1'], 'k8s.io/api/apps/v1': ['apps', 'v1'], 'k8s.io/api/batch/v1': ['batch', 'v1'], 'k8s.io/api/discovery/v1': ['discovery.k8s.io', 'v1'], 'k8s.io/api/networking/v1': ['networking.k8s.io', 'v1'] };
function propertySchema(id, f) {
  const elem = elemOf(f);
  const valueSchema = SCALARS[elem] ? { type: SCALARS[elem][0], ...(SCALARS[elem][1] ? { format: SCALARS[elem][1] } : {}) } : { allOf: [{ $ref: `#/components/schemas/${openapiName(elem)}` }] };
  const enumType = enumOf(f);
  const description = generateDescription([...f.goField.comments, ...(enumType ? enumDescriptionLines(enumType) : [])]);
  const enumValues = enumType?.values.length ? { enum: enumType.values.map((v) => v.value).sort() } : {};
  const shape = shapeOf(f);
  const out = { ...(description ? { description } : {}) };
  if (shape === 'list') Object.assign(out, { type: 'array', items: { ...valueSchema, ...enumValues } });
  else if (shape === 'map') Object.assign(out, { type: 'object', additionalProperties: valueSchema });
  else Object.assign(out, valueSchema, enumValues);
  const meta = fieldMeta(id, f);
  if (meta.default !== undefined) out.default = meta.default;
  if (meta.listMapKeys) out['x-kubernetes-list-map-keys'] = meta.listMapKeys;
  if (meta.listType) out['x-kubernetes-list-type'] = meta.listType;
  if (meta.mapType) out['x-kubernetes-map-type'] = meta.mapType;
  if (meta.patchMergeKey) out['x-kubernetes-patch-merge-key'] = meta.patchMergeKey;
  if (meta.patchStrategy) out['x-kubernetes-patch-strategy'] = meta.patchStrategy;
  return out;
}
const schemas = {};
for (const id of openapiOrder) {
  const s = goStruct(id);
  const description = generateDescription(s.comments);
  if (SPECIAL[id]) {
    schemas[openapiName(id)] = { ...(description ? { description } : {}), ...SPECIAL[id].schema };
    continue;
  }
  const fields = jsonFields(id);
  const properties = {};
  for (const f of fields) properties[f.json] = propertySchema(id, f);
  const required = fields.filter(isRequired).map((f) => f.json);
  const schema = { ...(description ? { description } : {}), type: 'object', properties: sortKeys(properties) };
  if (required.length) schema.required = required;
  const [pkgPath, name] = splitId(id);
  if (KINDS[name] === pkgPath) schema['x-kubernetes-group-version-kind'] = [{ group: GROUPS[pkgPath][0], kind: name, version: GROUPS[pkgPath][1] }];
  const structType = markers(s.comments).structType?.[0];
  if (structType === 'atomic') schema['x-kubernetes-map-type'] = 'atomic';
  schemas[openapiName(id)] = schema;
}
const options = {};
for (const name of OPTIONS) {
  const id = `k8s.io/apimachinery/pkg/apis/meta/v1.${name}`;
  const params = {};
  for (const f of jsonFields(id)) {
    if (f.json === 'kind' || f.json === 'apiVersion') continue;
    const elem = elemOf(f);
    const type = shapeOf(f) === 'one' && SCALARS[elem] ? SCALARS[elem][0] : 'string';
    params[f.json] = { description: generateDescription(f.goField.comments), type };
  }
  options[name] = params;
}
const openapiSchemas = { source: SOURCE, options, schemas: sortKeys(schemas) };

// ---- 3. protobuf descriptors ----
/** Messages to keep: the kinds' closure plus the envelope runtime.Unknown. */
const keep = new Set();
function keepMessage(type) {
  const name = type.fullName.slice(1);
  if (keep.has(name)) return;
  keep.add(name);
  for (const f of type.fieldsArray) if (f.resolvedType instanceof protobuf.Type) keepMessage(f.resolvedType);
}
for (const [kind, pkg] of [...Object.entries(KINDS), ...Object.entries(BODY_KINDS)]) keepMessage(protoRoot.lookupType(protoNameOf(`${pkg}.${kind}`)));
keepMessage(protoRoot.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown'));
const messages = {};
const json = {};
for (const name of [...keep].sort()) {
  const type = protoRoot.lookupType(name);
  messages[name] = { fields: Object.fromEntries(type.fieldsArray.map((f) => [f.name, { ...(f.map ? { keyType: f.keyType } : {}), ...(f.repeated ? { rule: 'repeated' } : {}), type: f.resolvedType ? f.resolvedType.fullName.slice(1) : f.type, id: f.id }])) };
  // How the Go JSON form differs from the message: inline (embedded) fields are spliced into
  // their parent, and a zero scalar of an omitempty non-pointer field is left out (Go's
  // protobuf marshaller writes it, encoding/json does not).
  const id = idOfProto(`.${name}`);
  if (id.startsWith('k8s.io/apimachinery/pkg/runtime.') || SPECIAL[id]) continue;
  // A named slice (authentication/v1 ExtraValue, []string) is a message of `items` on the wire
  // and a plain list in JSON: the decoder unwraps it (decode-protobuf.ts SPECIAL).
  if (!goPackage(src, splitId(id)[0]).structs.has(splitId(id)[1])) continue;
  const s = goStruct(id);
  const inline = [];
  const omitZero = [];
  const names = {};
  for (const f of s.fields) {
    const pb = f.tags.protobuf?.name;
    if (!pb || !f.tags.json) continue;
    if (f.tags.json.inline) inline.push(pb);
    else if (f.tags.json.omitempty && !f.goType.startsWith('*')) omitZero.push(pb);
    // go-to-protobuf names most fields as JSON does, but not all (IngressClass's aPIGroup).
    if (!f.tags.json.inline && f.tags.json.name !== pb) names[pb] = f.tags.json.name;
  }
  const rules = { ...(inline.length ? { inline } : {}), ...(omitZero.length ? { omitZero } : {}), ...(Object.keys(names).length ? { names } : {}) };
  if (Object.keys(rules).length) json[name] = rules;
}
const protoKinds = Object.fromEntries([...Object.entries(KINDS), ...Object.entries(BODY_KINDS)].map(([k, pkg]) => [`${GROUPS[pkg][0] ? `${GROUPS[pkg][0]}/` : ''}${GROUPS[pkg][1]}/${k}`, protoNameOf(`${pkg}.${k}`)]));
const descriptors = { source: SOURCE, kinds: protoKinds, json, messages };

if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}

// ---- write / check ----
function sortKeys(o) {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}
/** One top-level entry per line: readable diffs, small files. */
function serialize(doc) {
  const lines = Object.entries(doc).map(([k, v]) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 3) {
      const inner = Object.entries(v).map(([k2, v2]) => `    ${JSON.stringify(k2)}: ${JSON.stringify(v2)}`);
      return `  ${JSON.stringify(k)}: {\n${inner.join(',\n')}\n  }`;
    }
    return `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`;
  });
  return `{\n${lines.join(',\n')}\n}\n`;
}
const outputs = {
  'dataplane/base/patch/api-schema.json': serialize(patchSchema),
  'dataplane/apiserver/openapi/schemas.json': serialize(openapiSchemas),
  'dataplane/apiserver/protobuf/descriptors.json': serialize(descriptors),
};
let stale = false;
for (const [file, text] of Object.entries(outputs)) {
  const full = path.join(root, file);
  if (check) {
    if (!existsSync(full) || readFileSync(full, 'utf8') !== text) {
      console.error(`${file} is stale: run node scripts/gen-api-schema.mjs`);
      stale = true;
    }
  } else {
    writeFileSync(full, text);
    console.log(`wrote ${file} (${(text.length / 1024).toFixed(0)} KiB)`);
  }
}
process.exit(stale ? 1 : 0);
