/**
 * What a request asks for, read from its method and path as the apiserver's RequestInfoFactory
 * reads it (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go):
 *
 *   /api/v1/pods                                   list (or watch with ?watch=true)
 *   /api/v1/namespaces/NS/pods[/NAME[/SUB]]         namespaced resources
 *   /api/v1/namespaces/NAME[/status|/finalize]      the namespace itself
 *   /apis/GROUP/VERSION/…                           the same under a group
 *   /api/v1/watch/…  /apis/G/V/watch/…              the legacy watch prefix
 *
 * and the method: GET (get, list, watch), POST (create), PUT (update), PATCH (patch), DELETE
 * (delete, deletecollection without a name). Anything else is a non-resource path.
 */
import { resourceAt, type ApiResource } from '../base/model/api-resources.js';

export type ResourceVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface ResourceRequest {
  type: 'resource';
  verb: ResourceVerb;
  group: string;
  version: string;
  /** The plural as written in the path (for "the server could not find the requested resource"). */
  plural: string;
  /** undefined when no served resource has this name. */
  resource?: ApiResource;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface DiscoveryRequest {
  type: 'discovery';
  /** /api, /apis, /api/v1, /apis/GROUP, /apis/GROUP/VERSION */
  what: 'api' | 'apis' | 'group' | 'groupVersion';
  group: string;
  version: string;
}

export interface OtherRequest {
  type: 'version' | 'health' | 'metrics' | 'openapi' | 'unknown';
  path: string;
}

export type RequestInfo = ResourceRequest | DiscoveryRequest | OtherRequest;

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** Go's strconv.ParseBool, which the apiserver uses for query booleans (Python sends `True`). */
export function parseBool(v: string | null | undefined): boolean | undefined {
  if (v === null || v === undefined) return undefined;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  return undefined;
}

export function requestInfo(method: string, pathname: string, query: URLSearchParams): RequestInfo {
  const parts = pathname.split('/').filter((p) => p !== '');
  let decoded: string[];
  try {
    decoded = parts.map((p) => decodeURIComponent(p));
  } catch {
    return { type: 'unknown', path: pathname };
  }
  const [root] = decoded;
  if (root === 'version' && decoded.length === 1) return { type: 'version', path: pathname };
  if ((root === 'healthz' || root === 'livez' || root === 'readyz') && decoded.length <= 2) return { type: 'health', path: pathname };
  if (root === 'metrics' && decoded.length === 1) return { type: 'metrics', path: pathname };
  if (root === 'openapi') return { type: 'openapi', path: pathname };
  let group: string;
  let version: string | undefined;
  let rest: string[];
  if (root === 'api') {
    if (decoded.length === 1) return { type: 'discovery', what: 'api', group: '', version: '' };
    group = '';
    version = decoded[1];
    rest = decoded.slice(2);
  } else if (root === 'apis') {
    if (decoded.length === 1) return { type: 'discovery', what: 'apis', group: '', version: '' };
    group = decoded[1]!;
    if (decoded.length === 2) return { type: 'discovery', what: 'group', group, version: '' };
    version = decoded[2];
    rest = decoded.slice(3);
  } else {
    return { type: 'unknown', path: pathname };
  }
  if (rest.length === 0) return { type: 'discovery', what: 'groupVersion', group, version: version! };

  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) rest = rest.slice(2);
  }
  if (rest.length === 0 || rest.length > 3) return { type: 'unknown', path: pathname };
  const [plural, name, subresource] = rest as [string, string | undefined, string | undefined];
  const resource = resourceAt(group, version!, plural);
  // /api/v1/namespaces/NAME is the namespace object, not a resource inside it.
  if (plural === 'namespaces' && name !== undefined && namespace === name) namespace = undefined;

  let verb: ResourceVerb;
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = legacyWatch || parseBool(query.get('watch')) ? 'watch' : name ? 'get' : 'list';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name ? 'delete' : 'deletecollection';
      break;
    default:
      return { type: 'unknown', path: pathname };
  }
  return { type: 'resource', verb, group, version: version!, plural, resource, namespace, name, subresource };
}
