/**
 * The OpenAPI v3 documents `/openapi/v3/<group-version>` serves, built once from the generated
 * component schemas (schemas.json: k8s.io/api v0.32.3's types, descriptions, enums and the
 * x-kubernetes-* patch extensions) and the REST resources the server serves.
 *
 * Each document holds what kubectl reads: the paths with their operations (the PATCH of every
 * kind lists `fieldValidation` among its query parameters and the four patch media types, which
 * is how `kubectl apply`/`create -f` decide to validate on the server and to compute a
 * strategic merge patch), and the component schemas reachable from the group-version's kinds
 * (`kubectl explain`, and the merge keys of client-side apply). Operation names, descriptions
 * and parameter texts are the kube-apiserver's (endpoints/installer.go; the parameters' text is
 * the option structs' documentation, generated with the schemas).
 */
import { createHash } from 'node:crypto';
import openapiSchemas from './schemas.json' with { type: 'json' };

/** A REST resource as discovery describes it (the shape of the apiserver's resource table). */
export interface OpenApiResource {
  kind: string;
  /** "" for the core group. */
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
  verbs?: readonly string[];
  subresources?: ReadonlyArray<{ name: string; verbs: readonly string[]; kind?: string }>;
}

export interface OpenApiDocument {
  /** "api/v1", "apis/apps/v1". */
  path: string;
  body: Buffer;
  /** Upper-case hex SHA-512 of the body, as kube-openapi's handler3 computes it. */
  etag: string;
}

type Schema = Record<string, unknown>;
interface OptionParam {
  description: string;
  type: string;
}
interface SchemasFile {
  source: string;
  options: Record<string, Record<string, OptionParam>>;
  schemas: Record<string, Schema>;
}
const FILE = openapiSchemas as SchemasFile;

/** The Kubernetes release the schemas are from ("v1.32.3"). */
export const SCHEMA_VERSION = `v${/Kubernetes ([\d.]+)/.exec(FILE.source)?.[1] ?? 'unversioned'}`;

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const PATCH_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

/** "io.k8s.api.core.v1.Pod" for ("", "v1", "Pod"); undefined when the schemas do not have it. */
function schemaName(group: string, version: string, kind: string): string | undefined {
  for (const [name, schema] of Object.entries(FILE.schemas)) {
    const gvks = schema['x-kubernetes-group-version-kind'] as Array<{ group: string; version: string; kind: string }> | undefined;
    if (gvks?.some((g) => g.group === group && g.version === version && g.kind === kind)) return name;
  }
  return undefined;
}

/** The schemas `roots` reference, transitively (the components of one document). */
function reachable(roots: string[]): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  const visit = (name: string) => {
    if (name in out || !(name in FILE.schemas)) return;
    out[name] = FILE.schemas[name]!;
    JSON.stringify(FILE.schemas[name], (k, v: unknown) => {
      if (k === '$ref' && typeof v === 'string') visit(v.slice('#/components/schemas/'.length));
      return v;
    });
  };
  roots.forEach(visit);
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]!]));
}

function queryParam(options: string, name: string): Schema {
  const p = FILE.options[options]?.[name];
  if (!p) throw new Error(`no option ${options}.${name} in the generated schemas`);
  return { name, in: 'query', description: p.description, schema: { type: p.type, uniqueItems: true } };
}
const pathParam = (name: string, description: string): Schema => ({ name, in: 'path', description, required: true, schema: { type: 'string', uniqueItems: true } });
const PRETTY: Schema = { name: 'pretty', in: 'query', description: "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).", schema: { type: 'string', uniqueItems: true } };

function jsonResponse(schema: string, description = 'OK'): Schema {
  return { description, content: { 'application/json': { schema: ref(schema) } } };
}

/** "core_v1" / "CoreV1" for the core group, "apps_v1" / "AppsV1", "networking_v1" / "NetworkingV1". */
function groupNames(group: string, version: string): { tag: string; op: string } {
  const g = group === '' ? 'core' : group.split('.')[0]!;
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  return { tag: `${g}_${version}`, op: `${cap(g)}${cap(version)}` };
}

/** The path items of one resource: collection, object, and its status subresource. */
function resourcePaths(r: OpenApiResource, schema: string): Record<string, Schema> {
  const verbs = new Set(r.verbs ?? ALL_VERBS);
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const scope = r.namespaced ? `${base}/namespaces/{namespace}/${r.plural}` : `${base}/${r.plural}`;
  const { tag, op } = groupNames(r.group, r.version);
  const ns = r.namespaced ? 'Namespaced' : '';
  const gvk = { group: r.group, kind: r.kind, version: r.version };
  const operation = (action: string, id: string, description: string, extra: Schema): Schema => ({
    tags: [tag],
    description,
    operationId: `${id}${op}${ns}${r.kind}`,
    ...extra,
    responses: { ...(extra.responses as Schema), '401': { description: 'Unauthorized' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
  });
  const body = (required = true): Schema => ({ requestBody: { content: { '*/*': { schema: ref(schema) } }, required } });
  const write = (options: string) => ['dryRun', 'fieldManager', 'fieldValidation'].map((n) => queryParam(options, n));
  const patchOp = (id: string, description: string): Schema =>
    operation('patch', id, description, {
      parameters: [...write('PatchOptions'), queryParam('PatchOptions', 'force')],
      requestBody: { content: Object.fromEntries(PATCH_TYPES.map((t) => [t, { schema: ref(`${META}.Patch`) }])), required: true },
      responses: { '200': jsonResponse(schema), '201': jsonResponse(schema, 'Created') },
    });

  const paths: Record<string, Schema> = {};
  const namespaceParam = r.namespaced ? [pathParam('namespace', 'object name and auth scope, such as for teams and projects')] : [];
  const collection: Schema = { parameters: [...namespaceParam, PRETTY] };
  if (verbs.has('list')) {
    const list = ['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'resourceVersionMatch', 'timeoutSeconds', 'watch', 'allowWatchBookmarks', 'sendInitialEvents'];
    collection.get = operation('list', 'list', `list or watch objects of kind ${r.kind}`, {
      parameters: list.map((n) => queryParam('ListOptions', n)),
      responses: { '200': jsonResponse(`${schema}List`) },
    });
  }
  if (verbs.has('create')) {
    collection.post = operation('post', 'create', `create ${article(r.kind)} ${r.kind}`, {
      parameters: write('CreateOptions'),
      ...body(),
      responses: { '200': jsonResponse(schema), '201': jsonResponse(schema, 'Created'), '202': jsonResponse(schema, 'Accepted') },
    });
  }
  if (verbs.has('deletecollection')) {
    collection.delete = operation('deletecollection', 'deleteCollection', `delete collection of ${r.kind}`, {
      parameters: [queryParam('DeleteOptions', 'gracePeriodSeconds'), queryParam('DeleteOptions', 'propagationPolicy'), queryParam('DeleteOptions', 'dryRun'), ...['labelSelector', 'fieldSelector', 'limit', 'continue'].map((n) => queryParam('ListOptions', n))],
      requestBody: { content: { '*/*': { schema: ref(`${META}.DeleteOptions`) } } },
      responses: { '200': jsonResponse(`${META}.Status`) },
    });
  }
  paths[scope] = collection;

  const item: Schema = { parameters: [pathParam('name', `name of the ${r.kind}`), ...namespaceParam, PRETTY] };
  if (verbs.has('get')) item.get = operation('get', 'read', `read the specified ${r.kind}`, { responses: { '200': jsonResponse(schema) } });
  if (verbs.has('update')) {
    item.put = operation('put', 'replace', `replace the specified ${r.kind}`, { parameters: write('UpdateOptions'), ...body(), responses: { '200': jsonResponse(schema), '201': jsonResponse(schema, 'Created') } });
  }
  if (verbs.has('patch')) item.patch = patchOp('patch', `partially update the specified ${r.kind}`);
  if (verbs.has('delete')) {
    item.delete = operation('delete', 'delete', `delete ${article(r.kind)} ${r.kind}`, {
      parameters: [queryParam('DeleteOptions', 'dryRun'), queryParam('DeleteOptions', 'gracePeriodSeconds'), queryParam('DeleteOptions', 'propagationPolicy')],
      requestBody: { content: { '*/*': { schema: ref(`${META}.DeleteOptions`) } } },
      responses: { '200': jsonResponse(`${META}.Status`), '202': jsonResponse(`${META}.Status`, 'Accepted') },
    });
  }
  paths[`${scope}/{name}`] = item;

  const status = r.subresources?.find((s) => s.name === 'status' && (s.kind === undefined || s.kind === r.kind));
  if (status) {
    const sv = new Set(status.verbs);
    const sub: Schema = { parameters: item.parameters };
    const statusId = (op: Schema): Schema => ({ ...op, operationId: `${op.operationId as string}Status` });
    if (sv.has('get')) sub.get = statusId(operation('get', 'read', `read status of the specified ${r.kind}`, { responses: { '200': jsonResponse(schema) } }));
    if (sv.has('update')) sub.put = statusId(operation('put', 'replace', `replace status of the specified ${r.kind}`, { parameters: write('UpdateOptions'), ...body(), responses: { '200': jsonResponse(schema), '201': jsonResponse(schema, 'Created') } }));
    if (sv.has('patch')) sub.patch = statusId(patchOp('patch', `partially update status of the specified ${r.kind}`));
    paths[`${scope}/{name}/status`] = sub;
  }
  if (r.namespaced && verbs.has('list')) {
    paths[`${base}/${r.plural}`] = {
      parameters: [PRETTY],
      get: { ...(collection.get as Schema), operationId: `list${op}${r.kind}ForAllNamespaces` },
    };
  }
  return paths;
}

const article = (kind: string) => (/^[AEIOU]/.test(kind) ? 'an' : 'a');

/** One document per group-version of `resources` (resources without a generated schema are left out). */
export function buildOpenApiDocuments(resources: readonly OpenApiResource[]): Map<string, OpenApiDocument> {
  const byGv = new Map<string, OpenApiResource[]>();
  for (const r of resources) {
    const key = r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
    byGv.set(key, [...(byGv.get(key) ?? []), r]);
  }
  const docs = new Map<string, OpenApiDocument>();
  for (const [path, list] of [...byGv].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const paths: Record<string, Schema> = {};
    const roots = [`${META}.Patch`, `${META}.Status`, `${META}.DeleteOptions`];
    for (const r of [...list].sort((a, b) => (a.plural < b.plural ? -1 : 1))) {
      const schema = schemaName(r.group, r.version, r.kind);
      if (!schema) continue;
      roots.push(schema, `${schema}List`);
      Object.assign(paths, resourcePaths(r, schema));
    }
    if (Object.keys(paths).length === 0) continue;
    const doc = {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: SCHEMA_VERSION },
      paths,
      components: {
        schemas: reachable(roots),
        securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
      },
      security: [{ BearerToken: [] }],
    };
    const body = Buffer.from(JSON.stringify(doc));
    docs.set(path, { path, body, etag: createHash('sha512').update(body).digest('hex').toUpperCase() });
  }
  return docs;
}

/** `/openapi/v3`'s body: each group-version's URL with its current hash. */
export function openApiIndex(docs: Map<string, OpenApiDocument>): Buffer {
  const paths = Object.fromEntries([...docs.values()].map((d) => [d.path, { serverRelativeURL: serverRelativeURL(d) }]));
  return Buffer.from(JSON.stringify({ paths }));
}

export const serverRelativeURL = (d: OpenApiDocument) => `/openapi/v3/${d.path}?hash=${d.etag}`;
