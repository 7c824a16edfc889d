/**
 * POST serviceaccounts/NAME/token: the TokenRequest subresource (authentication.k8s.io/v1), as
 * pkg/registry/core/serviceaccount/storage/token.go serves it — what `kubectl create token`
 * and the kubelet ask for. The body (JSON, YAML or kubectl's protobuf) says the audiences
 * (default: the apiserver's), the lifetime (default 3600 s, at least 600) and optionally the
 * object the token is bound to (a Pod, Secret or Node, checked by name and uid); the reply (201)
 * is the TokenRequest with `status.token` and `status.expirationTimestamp`. Nothing is stored.
 */
import type { Node, Pod, Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { ApiResource } from '../base/model/api-resources.js';
import { DEFAULT_EXPIRATION_SECONDS, MIN_EXPIRATION_SECONDS } from '../base/serviceaccount/token-claims.js';
import { jsonReply, type ApiContext, type ApiRequest, type Reply } from './api-request.js';
import { decodeBody, writeQuery } from './request-body.js';
import { apiError, badRequest, invalid, notFound } from './status.js';
import { invalid as fieldInvalid } from '../base/model/validate/field-error.js';

const GROUP = 'authentication.k8s.io';
const API_VERSION = `${GROUP}/v1`;
const MAX_EXPIRATION_SECONDS = 2 ** 32;

interface BoundObjectReference {
  kind?: string;
  apiVersion?: string;
  name?: string;
  uid?: string;
}

interface TokenRequestBody {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: { audiences?: unknown; expirationSeconds?: unknown; boundObjectRef?: BoundObjectReference | null };
}

export function handleTokenRequest(ctx: ApiContext, req: ApiRequest, r: ApiResource, namespace: string, name: string): Reply {
  const tokens = ctx.tokens;
  if (!tokens) throw apiError('ServiceUnavailable', 'service account tokens are not issued: the apiserver has no signing key');
  const body = decodeBody(req, r) as TokenRequestBody;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a TokenRequest object');
  if ((body.apiVersion ?? API_VERSION) !== API_VERSION || (body.kind ?? 'TokenRequest') !== 'TokenRequest') {
    throw badRequest(`the body must be a TokenRequest (${API_VERSION}), not ${String(body.kind)} (${String(body.apiVersion)})`);
  }
  writeQuery(req, 'CreateOptions');
  const spec = body.spec ?? {};
  const expirationSeconds = spec.expirationSeconds === undefined || spec.expirationSeconds === null ? DEFAULT_EXPIRATION_SECONDS : spec.expirationSeconds;
  const audiences = spec.audiences ?? [];
  const errors = [];
  if (typeof expirationSeconds !== 'number' || !Number.isInteger(expirationSeconds)) errors.push(fieldInvalid('spec.expirationSeconds', expirationSeconds, 'must be an integer'));
  else if (expirationSeconds < MIN_EXPIRATION_SECONDS) errors.push(fieldInvalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes'));
  else if (expirationSeconds > MAX_EXPIRATION_SECONDS) errors.push(fieldInvalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration larger than 2^32 seconds'));
  if (!Array.isArray(audiences) || audiences.some((a) => typeof a !== 'string')) errors.push(fieldInvalid('spec.audiences', audiences, 'must be a list of strings'));
  if (errors.length) throw invalid('TokenRequest', GROUP, name, errors);

  const sa = ctx.cache.get('ServiceAccount', namespace, name) as ServiceAccount | undefined;
  if (!sa) throw notFound(r, name);
  const bound = boundObjects(ctx, namespace, name, spec.boundObjectRef ?? undefined);
  const issued = tokens.issue({ serviceAccount: sa, audiences: audiences as string[], expirationSeconds: expirationSeconds as number, ...bound });
  return jsonReply(201, {
    kind: 'TokenRequest',
    apiVersion: API_VERSION,
    metadata: { name, namespace, creationTimestamp: null },
    spec: { audiences: issued.claims.aud, expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
    status: { token: issued.token, expirationTimestamp: issued.expirationTimestamp },
  });
}

/** The object a token is bound to, looked up and checked as the registry does. */
function boundObjects(ctx: ApiContext, namespace: string, saName: string, ref: BoundObjectReference | undefined): { pod?: Pod; secret?: Secret; node?: Node } {
  if (!ref) return {};
  const kind = ref.kind ?? '';
  const group = (ref.apiVersion ?? 'v1').includes('/') ? ref.apiVersion!.split('/')[0] : '';
  const refName = ref.name ?? '';
  const check = (uid: string | undefined, resource: string) => {
    if (ref.uid && ref.uid !== uid) {
      throw apiError('Conflict', `Operation cannot be fulfilled on ${resource} "${refName}": the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`, { name: refName, kind: resource });
    }
  };
  if (group !== '') throw badRequest(`cannot bind token to object of type ${ref.apiVersion}, Kind=${kind}`);
  switch (kind) {
    case 'Pod': {
      const pod = ctx.cache.get('Pod', namespace, refName) as Pod | undefined;
      if (!pod) throw apiError('NotFound', `pods "${refName}" not found`, { name: refName, kind: 'pods' });
      if ((pod.spec?.serviceAccountName || 'default') !== saName) throw badRequest(`cannot bind token for serviceaccount "${saName}" to pod running with different serviceaccount name.`);
      check(pod.metadata?.uid, 'pods');
      // A pod-bound token names the pod's node too (ServiceAccountTokenPodNodeInfo).
      const node = pod.spec?.nodeName ? (ctx.cache.get('Node', undefined, pod.spec.nodeName) as Node | undefined) : undefined;
      return { pod, ...(node ? { node } : {}) };
    }
    case 'Secret': {
      const secret = ctx.cache.get('Secret', namespace, refName) as Secret | undefined;
      if (!secret) throw apiError('NotFound', `secrets "${refName}" not found`, { name: refName, kind: 'secrets' });
      check(secret.metadata?.uid, 'secrets');
      return { secret };
    }
    case 'Node': {
      const node = ctx.cache.get('Node', undefined, refName) as Node | undefined;
      if (!node) throw apiError('NotFound', `nodes "${refName}" not found`, { name: refName, kind: 'nodes' });
      check(node.metadata?.uid, 'nodes');
      return { node };
    }
    default:
      throw badRequest(`cannot bind token to object of type ${ref.apiVersion ?? 'v1'}, Kind=${kind}`);
  }
}
