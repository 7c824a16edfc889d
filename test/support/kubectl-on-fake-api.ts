/**
 * The real kubectl against one fake API server (kube-api-fake.ts) serving knet's OpenAPI and an
 * in-memory object map, started in beforeAll and stopped in afterAll: the fixture of the
 * component tests that check one handler with kubectl (OpenAPI, protobuf bodies, server-side apply).
 */
import { afterAll, beforeAll } from 'vitest';
import { openapiRoutes } from '../../dataplane/apiserver/openapi/openapi-routes.js';
import type { JsonMap } from '../../dataplane/base/patch/json-value.js';
import { FAKE_RESOURCES, memoryObjects, startFakeApi, type FakeApi } from './kube-api-fake.js';
import { kubectlFor, type Kubectl } from './kubectl.js';

export interface KubectlOnFakeApi {
  /** What the fake API holds, by URL path. */
  readonly objects: Map<string, JsonMap>;
  readonly api: FakeApi;
  readonly kubectl: Kubectl;
}

export function kubectlOnFakeApi(): KubectlOnFakeApi {
  const objects = new Map<string, JsonMap>();
  let api: FakeApi | undefined;
  let kubectl: Kubectl | undefined;
  beforeAll(async () => {
    const openapi = openapiRoutes(FAKE_RESOURCES);
    api = await startFakeApi([(req, res) => openapi({ url: req.url, method: req.method, headers: req.headers } as never, res), memoryObjects(objects)]);
    kubectl = kubectlFor(api.url);
  });
  afterAll(async () => {
    kubectl?.cleanup();
    await api?.close();
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('kubectlOnFakeApi: the fake API is started by beforeAll');
    return v;
  };
  return {
    objects,
    get api() {
      return started(api);
    },
    get kubectl() {
      return started(kubectl);
    },
  };
}
