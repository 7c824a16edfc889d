/**
 * POST /apis/authentication.k8s.io/v1/tokenreviews: who a bearer token is, as the apiserver's
 * own authenticators see it (pkg/registry/authentication/tokenreview/storage.go) — what webhook
 * token authenticators and Vault's Kubernetes auth ask. The admin's token and service-account
 * tokens are recognised; `spec.audiences` (default: the apiserver's) are the audiences the token
 * must be meant for, and `status.audiences` those it was accepted for. An unknown or invalid
 * token is not an error: `status.authenticated` is false (with `error` saying why, for a JWT of
 * this cluster). 201 with the TokenReview; nothing is stored.
 */
import type { ApiContext, ApiRequest, Reply, User } from './api-request.js';
import { jsonReply } from './api-request.js';
import { decodeBody, writeQuery } from './request-body.js';
import { badRequest, invalid } from './status.js';
import { required } from '../base/model/validate/field-error.js';
import type { ApiResource } from '../base/model/api-resources.js';

const API_VERSION = 'authentication.k8s.io/v1';

/** How the apiserver answers for a token and audiences: the user and accepted audiences, or why not. */
export type TokenReviewer = (token: string, audiences: string[] | undefined) => { user: User; audiences: string[] } | { error?: string };

interface TokenReviewBody {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown>;
  spec?: { token?: unknown; audiences?: unknown };
}

export function handleTokenReview(ctx: ApiContext, req: ApiRequest): Reply {
  const body = decodeBody(req, { group: 'authentication.k8s.io', version: 'v1', plural: 'tokenreviews' } as ApiResource) as TokenReviewBody;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a TokenReview object');
  if ((body.apiVersion ?? API_VERSION) !== API_VERSION || (body.kind ?? 'TokenReview') !== 'TokenReview') {
    throw badRequest(`the body must be a TokenReview (${API_VERSION}), not ${String(body.kind)} (${String(body.apiVersion)})`);
  }
  writeQuery(req, 'CreateOptions');
  const token = body.spec?.token;
  const audiences = body.spec?.audiences;
  if (typeof token !== 'string' || token === '') throw invalid('TokenReview', 'authentication.k8s.io', '', [required('spec.token', '')]);
  if (audiences !== undefined && (!Array.isArray(audiences) || audiences.some((a) => typeof a !== 'string'))) throw badRequest('spec.audiences must be a list of strings');
  const answer = ctx.reviewToken?.(token, audiences as string[] | undefined) ?? {};
  const status =
    'user' in answer
      ? {
          authenticated: true,
          user: { username: answer.user.name, ...(answer.user.uid ? { uid: answer.user.uid } : {}), groups: answer.user.groups, ...(answer.user.extra && Object.keys(answer.user.extra).length ? { extra: answer.user.extra } : {}) },
          audiences: answer.audiences,
        }
      : { user: {}, ...(answer.error ? { error: answer.error } : {}) };
  return jsonReply(201, {
    kind: 'TokenReview',
    apiVersion: API_VERSION,
    metadata: { creationTimestamp: null, ...(body.metadata ?? {}) },
    spec: { token, ...(audiences ? { audiences } : {}) },
    status,
  });
}
