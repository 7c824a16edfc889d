import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseBool, requestInfo } from '../../../dataplane/apiserver/request-info.js';
import { mergePatch } from '../../../dataplane/apiserver/merge-patch.js';

const q = (s = '') => new URLSearchParams(s);
const info = (method: string, path: string, query = '') => {
  const i = requestInfo(method, path, q(query));
  return i.type === 'resource' ? { verb: i.verb, group: i.group, plural: i.plural, kind: i.resource?.kind, namespace: i.namespace, name: i.name, sub: i.subresource } : i;
};

describe('request info', () => {
  it.each([
    ['GET', '/api/v1/pods', '', { verb: 'list', plural: 'pods', kind: 'Pod', namespace: undefined }],
    ['GET', '/api/v1/namespaces/default/pods', 'watch=true', { verb: 'watch', namespace: 'default' }],
    ['GET', '/api/v1/watch/namespaces/default/pods/web', '', { verb: 'watch', name: 'web' }],
    ['GET', '/api/v1/namespaces/default/pods/web/log', '', { verb: 'get', name: 'web', sub: 'log' }],
    ['GET', '/api/v1/namespaces/default', '', { verb: 'get', plural: 'namespaces', name: 'default', namespace: undefined }],
    ['PUT', '/api/v1/namespaces/default/status', '', { verb: 'update', plural: 'namespaces', name: 'default', sub: 'status' }],
    ['PATCH', '/apis/apps/v1/namespaces/x/deployments/web/scale', '', { verb: 'patch', group: 'apps', kind: 'Deployment', sub: 'scale' }],
    ['DELETE', '/api/v1/namespaces/x/configmaps', '', { verb: 'deletecollection', kind: 'ConfigMap' }],
    ['POST', '/api/v1/namespaces/x/pods', '', { verb: 'create' }],
    ['GET', '/apis/batch/v1/jobs', '', { verb: 'list', kind: 'Job' }],
    ['GET', '/apis/node.k8s.io/v1/runtimeclasses', '', { verb: 'list', kind: undefined }],
  ])('%s %s?%s', (method, path, query, want) => {
    expect(info(method, path, query)).toMatchObject(want);
  });

  it('tells discovery and other paths apart', () => {
    expect(requestInfo('GET', '/api', q())).toMatchObject({ type: 'discovery', what: 'api' });
    expect(requestInfo('GET', '/apis/apps', q())).toMatchObject({ type: 'discovery', what: 'group', group: 'apps' });
    expect(requestInfo('GET', '/apis/apps/v1', q())).toMatchObject({ type: 'discovery', what: 'groupVersion' });
    expect(requestInfo('GET', '/version', q())).toMatchObject({ type: 'version' });
    expect(requestInfo('GET', '/openapi/v3', q())).toMatchObject({ type: 'openapi' });
    expect(requestInfo('GET', '/%E0%A4%A', q())).toMatchObject({ type: 'unknown' });
  });

  it('reads booleans as Go does', () => {
    expect(['1', 't', 'T', 'true', 'TRUE', 'True'].map(parseBool)).toEqual(Array(6).fill(true));
    expect(['0', 'f', 'false', 'False'].map(parseBool)).toEqual(Array(4).fill(false));
    expect(parseBool('yes')).toBeUndefined();
  });

  it('never throws on any path and method', () => {
    fc.assert(
      fc.property(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'), fc.webPath(), fc.string(), (m, p, s) => {
        requestInfo(m, p, q(s));
      }),
      { numRuns: 300 },
    );
  });
});

describe('merge patch (RFC 7386)', () => {
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: ['b'] }, { a: ['c', 'd'] }, { a: ['c', 'd'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [['a', 'b'], { a: 'b' }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j + %j = %j', (target, patch, want) => {
    expect(mergePatch(target, patch)).toEqual(want);
  });
});
