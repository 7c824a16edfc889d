import { describe, expect, it } from 'vitest';
import { imageDefaultPorts, imageRepository } from '../../../dataplane/node/runtime/image-ports.js';

describe('image ports', () => {
  it.each([
    ['nginx', 'nginx'],
    ['nginx:1.27', 'nginx'],
    ['docker.io/library/nginx:1.27@sha256:abc', 'nginx'],
    ['localhost:5000/team/app:1', 'team/app'],
    ['registry.k8s.io/e2e-test-images/agnhost:2.53', 'e2e-test-images/agnhost'],
    ['gcr.io/google-samples/hello-app:1.0', 'google-samples/hello-app'],
  ])('%s is the repository %s', (image, repo) => expect(imageRepository(image)).toBe(repo));

  it.each([
    ['nginx:alpine', [80]],
    ['httpd', [80]],
    ['hashicorp/http-echo', [5678]],
    ['gcr.io/google-samples/hello-app:2.0', [8080]],
    ['example.com/nginx-ish', []],
    ['my/nginx', []],
    [undefined, []],
  ])('%s listens on %j by itself', (image, ports) => expect(imageDefaultPorts(image)).toEqual(ports));
});
