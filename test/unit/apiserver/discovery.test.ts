import { describe, expect, it } from 'vitest';
import { aggregatedDiscovery, apiGroupList, apiResourceList, versionInfo } from '../../../dataplane/apiserver/discovery.js';
import { discoveryShape, resourceShape } from '../../../dataplane/apiserver/negotiation.js';

const KUBECTL_DISCOVERY_ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
const KUBECTL_TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

describe('discovery', () => {
  it('reports minor 32, which picks kubectl 1.32 through the dispatcher', () => {
    expect(versionInfo()).toMatchObject({ major: '1', minor: '32' });
  });

  it('chooses the aggregated document by Accept, v2 first, and never refuses', () => {
    expect(discoveryShape(KUBECTL_DISCOVERY_ACCEPT)).toMatchObject({ as: 'APIGroupDiscoveryList', version: 'v2' });
    expect(discoveryShape('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json')).toMatchObject({ version: 'v2beta1' });
    expect(discoveryShape('application/json')).toEqual({ as: 'object' });
    expect(discoveryShape('application/vnd.kubernetes.protobuf')).toEqual({ as: 'object' });
    expect(discoveryShape(undefined)).toEqual({ as: 'object' });
  });

  it('chooses Tables and metadata-only answers by Accept', () => {
    expect(resourceShape(KUBECTL_TABLE_ACCEPT)).toEqual({ as: 'Table', contentType: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    expect(resourceShape('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io')).toMatchObject({ as: 'PartialObjectMetadata' });
    expect(resourceShape('application/vnd.kubernetes.protobuf,application/json')).toEqual({ as: 'object' });
    expect(resourceShape('application/json;as=Table;v=v9;g=meta.k8s.io')).toEqual({ as: 'object' });
  });

  it('lists each resource before its subresources, with short names, categories and the Scale kind', () => {
    const core = apiResourceList('', 'v1')!;
    const names = (core.resources as Array<{ name: string }>).map((r) => r.name);
    expect(names.indexOf('pods')).toBeLessThan(names.indexOf('pods/status'));
    expect(names).toEqual(expect.arrayContaining(['pods/log', 'pods/eviction', 'pods/binding', 'services/status', 'namespaces', 'events']));
    const pods = (core.resources as Array<Record<string, unknown>>).find((r) => r.name === 'pods')!;
    expect(pods).toMatchObject({ singularName: 'pod', namespaced: true, kind: 'Pod', shortNames: ['po'], categories: ['all'] });
    const eviction = (core.resources as Array<Record<string, unknown>>).find((r) => r.name === 'pods/eviction')!;
    expect(eviction).toMatchObject({ group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
    const scale = (apiResourceList('apps', 'v1')!.resources as Array<Record<string, unknown>>).find((r) => r.name === 'deployments/scale')!;
    expect(scale).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    expect((apiResourceList('policy', 'v1') as { resources: Array<{ name: string }> } | undefined)?.resources.map((r) => r.name)).toEqual(['poddisruptionbudgets', 'poddisruptionbudgets/status']);
    expect(apiResourceList('node.k8s.io', 'v1')).toBeUndefined();
    const jobs = (apiResourceList('batch', 'v1')!.resources as Array<Record<string, unknown>>).map((r) => r.name);
    expect(jobs).toEqual(['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']);
  });

  it('serves the same resources in the aggregated document, core under /api and the groups under /apis', () => {
    const core = aggregatedDiscovery(true, 'v2') as { items: Array<{ metadata: { name: string }; versions: Array<{ resources: Array<Record<string, unknown>> }> }> };
    expect(core.items.map((i) => i.metadata.name)).toEqual(['']);
    const pods = core.items[0]!.versions[0]!.resources.find((r) => r.resource === 'pods')!;
    expect(pods).toMatchObject({ scope: 'Namespaced', singularResource: 'pod', responseKind: { group: '', version: 'v1', kind: 'Pod' } });
    expect(core.items[0]!.versions[0]!.resources.find((r) => r.resource === 'componentstatuses')).toEqual({
      resource: 'componentstatuses', responseKind: { group: '', version: 'v1', kind: 'ComponentStatus' }, scope: 'Cluster', singularResource: 'componentstatus', verbs: ['get', 'list'], shortNames: ['cs'],
    });
    const groups = aggregatedDiscovery(false, 'v2beta1') as { apiVersion: string; items: Array<{ metadata: { name: string } }> };
    expect(groups.apiVersion).toBe('apidiscovery.k8s.io/v2beta1');
    // authentication.k8s.io and authorization.k8s.io hold only create-only reviews; /api/v1 also lists the computed componentstatuses.
    const names = ['apps', 'batch', 'discovery.k8s.io', 'networking.k8s.io', 'coordination.k8s.io', 'autoscaling', 'policy', 'rbac.authorization.k8s.io', 'scheduling.k8s.io', 'storage.k8s.io', 'authentication.k8s.io', 'authorization.k8s.io'];
    expect(groups.items.map((i) => i.metadata.name)).toEqual(names);
    expect((apiGroupList().groups as Array<{ name: string }>).map((g) => g.name)).toEqual(names);
    const items = groups.items as unknown as Array<{ metadata: { name: string }; versions: Array<{ resources: Array<Record<string, unknown>> }> }>;
    const auth = items.find((i) => i.metadata.name === 'authentication.k8s.io')!;
    expect(auth.versions[0]!.resources).toEqual([
      { resource: 'tokenreviews', responseKind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenReview' }, scope: 'Cluster', singularResource: 'tokenreview', verbs: ['create'] },
      { resource: 'selfsubjectreviews', responseKind: { group: 'authentication.k8s.io', version: 'v1', kind: 'SelfSubjectReview' }, scope: 'Cluster', singularResource: 'selfsubjectreview', verbs: ['create'] },
    ]);
    const authz = items.find((i) => i.metadata.name === 'authorization.k8s.io')!;
    expect(authz.versions[0]!.resources.map((r) => r.resource)).toEqual(['selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'subjectaccessreviews']);
  });
});
