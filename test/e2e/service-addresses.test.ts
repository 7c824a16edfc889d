/**
 * A Service cannot take another cluster's traffic or leave loopback (issue 18, item 4), end to
 * end with two clusters side by side and real curl:
 *  - an externalIP on the other cluster's ClusterIP, node or pod address, a loadBalancerIP in its
 *    LoadBalancer pool, and an externalIP on this machine's real interface address are refused by
 *    apply with kubectl-style field errors, and nothing is written;
 *  - the same Service written straight into the store (no admission) is refused by the proxy, which
 *    does not take the other cluster's ClusterIP even once it is free: the other cluster gets it
 *    back when it needs it;
 *  - a cluster started with allowExternalIPs (`knet up --allow-external-ips`) accepts the real
 *    interface address. It runs no proxy: the test checks validation only and exposes nothing.
 */
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from 'kubernetes-types/core/v1.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { nodeIP, podSubnet } from '../../dataplane/base/cluster-config.js';
import { cidrAddress } from '../../dataplane/base/net/ip.js';
import { agnhostWeb } from '../support/agnhost.js';
import { curl } from './proxy-helpers.js';

const web = (replicas: number) => agnhostWeb({ name: 'web', replicas, readiness: true });

const thief = (spec: string) => `apiVersion: v1
kind: Service
metadata: { name: thief }
spec:
  selector: { app: web }
${spec}`;

/** The machine's real interface address (validation only: nothing here listens on it). */
function interfaceAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '192.0.2.10'; // a documentation address: no interface, the same rule applies
}

let a: KnetCluster;
let b: KnetCluster;
let bClusterIP: string;

beforeAll(async () => {
  [a, b] = await Promise.all([
    startCluster({ components: { dns: false, ingress: false }, manifests: web(1) }),
    startCluster({ components: { dns: false, ingress: false }, manifests: web(1) }),
  ]);
  bClusterIP = (await b.get<Service>('svc', 'web'))!.spec!.clusterIP!;
}, 90_000);

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

/** Applies `yaml` to cluster A expecting a refusal; returns the error text after checking nothing was written. */
async function refused(yaml: string): Promise<string> {
  const err = await a.apply(yaml, { wait: false }).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err?.name).toBe('ApplyError');
  expect(await a.get('svc', 'thief')).toBeUndefined();
  return err!.message;
}

describe('apply refuses a Service address of another cluster or off loopback', () => {
  it("refuses an externalIP on the other cluster's ClusterIP, node and pod addresses", async () => {
    const bNode = nodeIP(b.config, 1);
    const bPod = podSubnet(b.config, 1).replace('.0/24', '.9');
    const message = await refused(thief(`  externalIPs: [${bClusterIP}, ${bNode}, ${bPod}]\n  ports: [{ port: 80, targetPort: 8080 }]\n`));
    const block = (ip: string) => `may not be in ${ip.split('.').slice(0, 2).join('.')}.0.0/16, address block ${b.config.index} of another knet cluster on this machine: it would take that cluster's traffic`;
    expect(message).toContain(`Service "thief" is invalid: spec.externalIPs[0]: Invalid value: "${bClusterIP}": ${block(bClusterIP)}`);
    expect(message).toContain(`spec.externalIPs[1]: Invalid value: "${bNode}": ${block(bNode)}`);
    expect(message).toContain(`spec.externalIPs[2]: Invalid value: "${bPod}": ${block(bPod)}`);
  });

  it("refuses a loadBalancerIP in the other cluster's pool, and one of this cluster's ClusterIPs", async () => {
    const bPool = b.config.loadBalancerPool.last;
    const aDns = a.config.dnsServiceIP;
    const lb = await refused(thief(`  type: LoadBalancer\n  loadBalancerIP: ${bPool}\n  ports: [{ port: 80, targetPort: 8080 }]\n`));
    expect(lb).toContain(`spec.loadBalancerIP: Invalid value: "${bPool}": may not be in `);
    const own = await refused(thief(`  externalIPs: [${aDns}]\n  ports: [{ port: 80, targetPort: 8080 }]\n`));
    expect(own).toContain(`spec.externalIPs[0]: Invalid value: "${aDns}": may not be in this cluster's service range (${a.config.serviceCIDR})`);
  });

  it("refuses the machine's interface address and names the flag that allows it", async () => {
    const ip = interfaceAddress();
    const message = await refused(thief(`  externalIPs: [${ip}]\n  ports: [{ port: 80, targetPort: 8080 }]\n`));
    expect(message).toContain(`spec.externalIPs[0]: Invalid value: "${ip}": must be a loopback address (127.0.0.0/8)`);
    expect(message).toContain('knet up --allow-external-ips');
  });
});

describe('the proxy refuses such a Service that reached the store without admission', () => {
  it("does not take the other cluster's ClusterIP once it is free, and the other cluster gets it back", async () => {
    const url = `http://${bClusterIP}/hostname`;
    expect((await curl(url)).body).toMatch(/^web-/);
    // B frees its ClusterIP: without endpoints its proxy closes the listener.
    await b.apply(web(0));
    await b.waitForEndpoints('web', 0);
    let r = await curl(url);
    for (let i = 0; i < 100 && r.code !== 7; i++) {
      await new Promise((res) => setTimeout(res, 50));
      r = await curl(url);
    }
    expect(r.code).toBe(7);

    // A Service on B's ClusterIP written into A's store directly, as an older knet could have.
    await a.store.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'thief', namespace: 'default' },
      spec: { type: 'ClusterIP', clusterIP: cidrAddress(a.config.serviceCIDR, 4000), selector: { app: 'web' }, externalIPs: [bClusterIP], ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
    });
    // A Service applied after it, waited on until it accepts connections: A's proxy has synced with the thief in place.
    await a.apply(`apiVersion: v1\nkind: Service\nmetadata: { name: after }\nspec:\n  selector: { app: web }\n  ports: [{ port: 81, targetPort: 8080 }]\n`);
    const warning = await a.waitFor(async () => (await a.events({ for: 'service/thief' })).find((e) => e.reason === 'FailedToBindServicePort')?.message, 'a Warning event on service thief');
    expect(warning).toBe(
      `refusing to listen on ${bClusterIP}:80/TCP (externalIP of default/thief): may not be in ${bClusterIP.split('.').slice(0, 2).join('.')}.0.0/16, address block ${b.config.index} of another knet cluster on this machine: it would take that cluster's traffic`,
    );
    expect((await curl(url)).code).toBe(7);

    // B needs its address again: its proxy binds it, and B's pod answers.
    await b.apply(web(1));
    r = await curl(url);
    for (let i = 0; i < 100 && r.code !== 0; i++) {
      await new Promise((res) => setTimeout(res, 50));
      r = await curl(url);
    }
    expect(r.body).toMatch(/^web-/);
    const bPods = (await b.get('pods')).map((p) => p.metadata?.name);
    expect(bPods).toContain(r.body);
  });
});

describe('a cluster started with --allow-external-ips', () => {
  it("accepts the machine's interface address (validation only: this cluster runs no proxy)", async () => {
    await using open = await startCluster({ nodes: 1, config: { allowExternalIPs: true }, components: { proxy: false, dns: false, ingress: false } });
    const ip = interfaceAddress();
    const [result] = await open.apply(`apiVersion: v1\nkind: Service\nmetadata: { name: outside }\nspec:\n  externalIPs: [${ip}]\n  ports: [{ port: 80 }]\n`, { wait: false });
    expect(result!.action).toBe('created');
    expect((await open.get<Service>('svc', 'outside'))!.spec!.externalIPs).toEqual([ip]);
    // Other clusters' addresses stay refused.
    await expect(open.apply(`apiVersion: v1\nkind: Service\nmetadata: { name: across }\nspec:\n  externalIPs: [${bClusterIP}]\n  ports: [{ port: 80 }]\n`, { wait: false })).rejects.toThrow(
      /spec\.externalIPs\[0\]: Invalid value: ".*": may not be in .*another knet cluster/,
    );
  });
});
