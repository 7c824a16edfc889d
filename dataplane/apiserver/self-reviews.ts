/**
 * The review APIs kubectl's `auth` commands ask, answered as an apiserver whose authorizer is
 * AlwaysAllow (knet has no RBAC: every authenticated user may do everything; README):
 *
 * - `POST /apis/authentication.k8s.io/v1/selfsubjectreviews` (`kubectl auth whoami`): the
 *   requester as the authenticators saw them (pkg/registry/authentication/selfsubjectreview);
 * - `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews` (`kubectl auth can-i VERB
 *   RESOURCE`): `allowed: true` for any request that says exactly what it asks about
 *   (resourceAttributes or nonResourceAttributes, as validation requires);
 * - `POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews` (`kubectl auth can-i --list`):
 *   AlwaysAllow's rules, everything on every resource and every non-resource URL;
 * - `POST /apis/authorization.k8s.io/v1/subjectaccessreviews`: the same answer for any user.
 *
 * JSON or kubectl's protobuf bodies; 201 with the review and its status; nothing is stored.
 */
import type { ApiContext, ApiRequest, Reply } from './api-request.js';
import { jsonReply } from './api-request.js';
import { decodeBody, writeQuery } from './request-body.js';
import { badRequest, invalid } from './status.js';
import { invalid as invalidField, required, type FieldError } from '../base/model/validate/field-error.js';
import type { ApiResource, CreateOnlyResource } from '../base/model/api-resources.js';

interface ReviewBody {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown>;
  spec?: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function handleSelfReview(ctx: ApiContext, req: ApiRequest, r: CreateOnlyResource): Reply {
  const apiVersion = `${r.group}/${r.version}`;
  const body = decodeBody(req, { group: r.group, version: r.version, plural: r.plural } as ApiResource) as ReviewBody;
  if (!isObject(body)) throw badRequest(`the body must be a ${r.kind} object`);
  if ((body.apiVersion ?? apiVersion) !== apiVersion || (body.kind ?? r.kind) !== r.kind) {
    throw badRequest(`the body must be a ${r.kind} (${apiVersion}), not ${String(body.kind)} (${String(body.apiVersion)})`);
  }
  writeQuery(req, 'CreateOptions');
  const spec = isObject(body.spec) ? body.spec : {};
  const reply = (status: Record<string, unknown>, withSpec = true) =>
    jsonReply(201, { kind: r.kind, apiVersion, metadata: { creationTimestamp: null, ...(body.metadata ?? {}) }, ...(withSpec ? { spec } : {}), status });
  switch (r.kind) {
    case 'SelfSubjectReview': {
      const u = req.user;
      const userInfo = { username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra && Object.keys(u.extra).length ? { extra: u.extra } : {}) };
      return reply({ userInfo }, false);
    }
    case 'SelfSubjectAccessReview':
    case 'SubjectAccessReview': {
      const errors = accessReviewErrors(spec, r.kind === 'SubjectAccessReview');
      if (errors.length) throw invalid(r.kind, r.group, '', errors);
      return reply({ allowed: true });
    }
    case 'SelfSubjectRulesReview':
      return reply({
        resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
        nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        incomplete: false,
      });
  }
  ctx.log.warn('no handler for a review resource', { kind: r.kind });
  throw badRequest(`${r.kind} is not served`);
}

/** ValidateSelfSubjectAccessReviewSpec (and, for SubjectAccessReview, that it names a subject). */
function accessReviewErrors(spec: Record<string, unknown>, needsSubject: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const resource = spec.resourceAttributes;
  const nonResource = spec.nonResourceAttributes;
  if (resource !== undefined && nonResource !== undefined) errors.push(invalidField('spec.nonResourceAttributes', nonResource, 'cannot be specified in combination with resourceAttributes'));
  if (resource === undefined && nonResource === undefined) errors.push(invalidField('spec.resourceAttributes', null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  if (needsSubject && !spec.user && !(Array.isArray(spec.groups) && spec.groups.length)) errors.push(required('spec.user', 'at least one of user or group must be specified'));
  return errors;
}
