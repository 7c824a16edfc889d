/**
 * A minimal Kubernetes API endpoint for component tests of the apiserver's pure parts (OpenAPI
 * documents, patches, protobuf bodies) against the real kubectl: `/version`, legacy discovery
 * (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`), and an in-memory object map with GET,
 * POST and PATCH that the test supplies handlers for. Plain HTTP on loopback: kubectl sends no
 * credentials over http. It is not the apiserver (dataplane/apiserver/ is): no store, no
 * admission, no watch; its object routes only wire the pure patch modules to HTTP.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KINDS, type KObject, type Kind } from '../../dataplane/base/model/object.js';
import { parse as parseYaml } from 'yaml';
import type { JsonMap } from '../../dataplane/base/patch/json-value.js';
import { kindRef } from '../../dataplane/base/patch/api-schema.js';
import { applyStrategicMergePatch } from '../../dataplane/base/patch/strategic-merge.js';
import { recordUpdate } from '../../dataplane/base/patch/managed-fields.js';
import { PatchError } from '../../dataplane/base/patch/patch-error.js';
import { decodeProtobufBody, PROTOBUF_CONTENT_TYPE } from '../../dataplane/apiserver/protobuf/decode-protobuf.js';
import { APPLY_PATCH_TYPE, ApplyConflictError, ApplyInvalidError, applyServerSide } from '../../dataplane/base/patch/server-side-apply.js';

export interface FakeResource {
  kind: Kind;
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
  verbs: string[];
  subresources: Array<{ name: string; verbs: string[] }>;
}

const PLURALS: Record<Kind, string> = {
  Namespace: 'namespaces', Node: 'nodes', Pod: 'pods', Service: 'services', Endpoints: 'endpoints', Secret: 'secrets', ConfigMap: 'configmaps', ServiceAccount: 'serviceaccounts', Event: 'events',
  Deployment: 'deployments', ReplicaSet: 'replicasets', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets', Job: 'jobs', CronJob: 'cronjobs', EndpointSlice: 'endpointslices', Ingress: 'ingresses', IngressClass: 'ingressclasses', NetworkPolicy: 'networkpolicies', Lease: 'leases',
  PersistentVolume: 'persistentvolumes', PersistentVolumeClaim: 'persistentvolumeclaims', ReplicationController: 'replicationcontrollers', LimitRange: 'limitranges', ResourceQuota: 'resourcequotas', HorizontalPodAutoscaler: 'horizontalpodautoscalers', PodDisruptionBudget: 'poddisruptionbudgets', ClusterRole: 'clusterroles', ClusterRoleBinding: 'clusterrolebindings', Role: 'roles', RoleBinding: 'rolebindings', PriorityClass: 'priorityclasses', StorageClass: 'storageclasses',
};
const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** The served resources, one per stored kind. */
export const FAKE_RESOURCES: FakeResource[] = (Object.keys(KINDS) as Kind[]).map((kind) => {
  const apiVersion: string = KINDS[kind].apiVersion;
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  const status = ['ConfigMap', 'Secret', 'ServiceAccount', 'Endpoints', 'Event', 'EndpointSlice', 'IngressClass', 'NetworkPolicy', 'Lease', 'LimitRange', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'PriorityClass', 'StorageClass'].includes(kind) ? [] : [{ name: 'status', verbs: ['get', 'patch', 'update'] }];
  return { kind, group, version, plural: PLURALS[kind], namespaced: KINDS[kind].namespaced, verbs: VERBS, subresources: status };
});

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type Route = (req: RecordedRequest, res: http.ServerResponse) => boolean;

export interface FakeApi {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function discovery(req: RecordedRequest, res: http.ServerResponse): boolean {
  const path = req.url.split('?')[0];
  if (path === '/version') {
    json(res, 200, { major: '1', minor: '32', gitVersion: 'v1.32.4', platform: 'linux/amd64' });
    return true;
  }
  if (path === '/api') {
    json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    return true;
  }
  const groups = [...new Set(FAKE_RESOURCES.filter((r) => r.group).map((r) => r.group))];
  if (path === '/apis') {
    json(res, 200, {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: groups.map((name) => ({ name, versions: [{ groupVersion: `${name}/v1`, version: 'v1' }], preferredVersion: { groupVersion: `${name}/v1`, version: 'v1' } })),
    });
    return true;
  }
  const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/(v1))$/.exec(path ?? '');
  if (m) {
    const group = m[2] ?? '';
    const resources = FAKE_RESOURCES.filter((r) => r.group === group).flatMap((r) => [
      { name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: r.verbs },
      ...r.subresources.map((s) => ({ name: `${r.plural}/${s.name}`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: s.verbs })),
    ]);
    json(res, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/v1` : 'v1', resources });
    return true;
  }
  return false;
}

/** Starts the endpoint on 127.0.0.1; `routes` are tried in order after discovery, else 404. */
export async function startFakeApi(routes: Route[]): Promise<FakeApi> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(recorded);
      try {
        if (discovery(recorded, res)) return;
        for (const route of routes) if (route(recorded, res)) return;
        json(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 });
      } catch (err) {
        json(res, 500, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: String(err), reason: 'InternalError', code: 500 });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Objects in a map behind GET, POST (JSON or protobuf) and PATCH (strategic merge and server-side
 * apply, through dataplane/base/patch), every write recorded in managedFields: the apiserver's patch path in
 * miniature, so kubectl's requests can be answered and checked.
 */
export function memoryObjects(objects: Map<string, JsonMap>): Route {
  const status = (res: http.ServerResponse, code: number, reason: string, message: string, details?: object) =>
    json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
  return (req, res) => {
    const [path, query = ''] = req.url.split('?') as [string, string?];
    const params = new URLSearchParams(query);
    const m = /^\/(?:api|apis\/[^/]+)\/v1\/(?:namespaces\/([^/]+)\/)?([a-z]+)(?:\/([^/]+))?$/.exec(path);
    const resource = m && FAKE_RESOURCES.find((r) => r.plural === m[2]);
    if (!m || !resource) return false;
    const name = m[3];
    const manager = params.get('fieldManager') ?? undefined;
    const apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
    const type = (req.headers['content-type'] ?? '').split(';')[0];
    if (req.method === 'POST' && !name) {
      let obj: JsonMap;
      try {
        obj = (type === PROTOBUF_CONTENT_TYPE ? decodeProtobufBody(req.body) : JSON.parse(req.body.toString())) as JsonMap;
      } catch (err) {
        return (status(res, 400, 'BadRequest', (err as Error).message), true);
      }
      const key = `${path}/${(obj.metadata as JsonMap).name as string}`;
      if (objects.has(key)) return (status(res, 409, 'AlreadyExists', `${m[2]} "${(obj.metadata as JsonMap).name as string}" already exists`), true);
      const created = recordUpdate(undefined, obj as KObject, manager ?? 'unknown') as unknown as JsonMap;
      objects.set(key, created);
      json(res, 201, created);
      return true;
    }
    const current = objects.get(path);
    if (req.method === 'PATCH' && type === APPLY_PATCH_TYPE && name) {
      try {
        const next = applyServerSide(current as KObject | undefined, parseYaml(req.body.toString()) as unknown, { fieldManager: manager, force: params.get('force') === 'true', apiVersion, kind: resource.kind });
        objects.set(path, next as unknown as JsonMap);
        json(res, current ? 200 : 201, next);
      } catch (err) {
        if (err instanceof ApplyConflictError) status(res, 409, 'Conflict', err.message, { causes: err.causes });
        else if (err instanceof ApplyInvalidError) status(res, 422, 'Invalid', err.message, err.details);
        else if (err instanceof PatchError) status(res, err.code, err.reason, err.message);
        else throw err;
      }
      return true;
    }
    if (!name || !current) return (status(res, 404, 'NotFound', `${m[2]} "${name}" not found`, { name, kind: m[2] }), true);
    if (req.method === 'GET') return (json(res, 200, current), true);
    if (req.method === 'PATCH' && type === 'application/strategic-merge-patch+json') {
      const patched = applyStrategicMergePatch(current, JSON.parse(req.body.toString()) as JsonMap, kindRef(resource.kind));
      const next = recordUpdate(current as KObject, patched as KObject, manager ?? 'unknown') as unknown as JsonMap;
      objects.set(path, next);
      json(res, 200, next);
      return true;
    }
    return false;
  };
}
