// The quickstart under `node --test` (node:test and node:assert, no test framework):
//   npm run build && node --test examples/testing/node-test/quickstart.test.mjs
// (a file, not the folder: since Node 21 `--test` takes its arguments as file patterns, and a folder matches none)
// It imports the package the way your project will: `import { startCluster } from 'knet'`
// (here the package's own build, which Node finds by the package name).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startCluster } from 'knet';

describe('the quickstart', () => {
  /** @type {import('knet').KnetCluster} */
  let cluster;
  before(async () => {
    // A node that stops heartbeating goes NotReady after nodeGraceSeconds (5 by default).
    cluster = await startCluster({ manifests: 'examples/quickstart', config: { nodeGraceSeconds: 2 } });
  });
  // Node 20 has no `await using` yet: close in an after hook (it also runs when a test fails).
  after(() => cluster?.close());

  it('serves /hostname from each of its 3 pods through the ClusterIP', async () => {
    const pods = await cluster.waitForPods('deployment/web');
    assert.equal(pods.length, 3);
    const { host, port } = await cluster.serviceAddress('web');
    const seen = new Set();
    for (let i = 0; i < 9; i++) seen.add(await (await fetch(`http://${host}:${port}/hostname`, { headers: { connection: 'close' } })).text());
    assert.deepEqual([...seen].sort(), pods.map((p) => p.metadata.name).sort());
  });

  it('resolves cluster DNS names for node:http through cluster.lookup', async () => {
    const body = await new Promise((resolve, reject) => {
      http
        .get({ host: 'web.default.svc.cluster.local', path: '/hostname', lookup: cluster.lookup, agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    assert.match(body, /^web-/);
  });

  it('reports a stopped node NotReady (fault injection)', async () => {
    await cluster.nodeStop('node-2');
    const node = await cluster.waitForCondition('node/node-2', 'Ready', 'Unknown');
    assert.equal(node.metadata.name, 'node-2');
    await cluster.nodeStart('node-2');
    await cluster.waitForCondition('node/node-2', 'Ready', 'True');
  });
});
