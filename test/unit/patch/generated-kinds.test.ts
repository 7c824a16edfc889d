/**
 * The generated schema artefacts cover exactly the kinds knet stores: a kind added to
 * KINDS without `node scripts/gen-api-schema.mjs` (and its KINDS list) fails here.
 */
import { describe, expect, it } from 'vitest';
import { KINDS } from '../../../dataplane/base/model/object.js';
import apiSchema from '../../../dataplane/base/patch/api-schema.json' with { type: 'json' };
import descriptors from '../../../dataplane/apiserver/protobuf/descriptors.json' with { type: 'json' };
import openapi from '../../../dataplane/apiserver/openapi/schemas.json' with { type: 'json' };

describe('generated schema artefacts', () => {
  it('have every stored kind, in its served version', () => {
    expect(Object.keys(apiSchema.kinds).sort()).toEqual(Object.keys(KINDS).sort());
    // Plus the request bodies knet decodes but does not store (kubectl create token, auth whoami, auth can-i).
    const bodyKinds = [
      'authentication.k8s.io/v1/TokenRequest',
      'authentication.k8s.io/v1/TokenReview',
      'authentication.k8s.io/v1/SelfSubjectReview',
      'authorization.k8s.io/v1/SelfSubjectAccessReview',
      'authorization.k8s.io/v1/SelfSubjectRulesReview',
    ];
    expect(Object.keys(descriptors.kinds).sort()).toEqual([...Object.entries(KINDS).map(([k, v]) => `${v.apiVersion}/${k}`), ...bodyKinds].sort());
    const gvks = Object.values(openapi.schemas as Record<string, { 'x-kubernetes-group-version-kind'?: Array<{ group: string; version: string; kind: string }> }>)
      .flatMap((s) => s['x-kubernetes-group-version-kind'] ?? [])
      .map((g) => `${g.group ? `${g.group}/` : ''}${g.version}/${g.kind}`);
    for (const [kind, { apiVersion }] of Object.entries(KINDS)) expect(gvks).toContain(`${apiVersion}/${kind}`);
  });
});
