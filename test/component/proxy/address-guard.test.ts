/**
 * The proxy refuses to listen on a Service address admission would have rejected, when one
 * reaches it anyway (here: straight into its informers): another cluster's ClusterIP, one of
 * this cluster's, an address off loopback. Each refusal is a bind error with the reason and a
 * Warning event on the Service; the Services' other listeners, and a Service whose ClusterIP the
 * refused externalIP names, keep serving. The off-loopback address is a documentation address
 * (192.0.2.0/24) that no interface has: nothing could be exposed even if the guard failed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecorder, EventType } from '../../../dataplane/base/admission/events.js';
import type { KObject } from '../../../dataplane/base/model/object.js';
import { BIND_FAILED_REASON } from '../../../proxy/bind-events.js';
import { curl, slice, startBackend, startRig, svc, type Backend, type Rig } from './helpers.js';

const BACKEND = { ip: '127.51.1.41', node: 'node-1', pod: 'guard-1' };

/** The events the proxy records, as a list (a sink, like the store the real recorder writes to). */
function collectingRecorder(): EventRecorder & { events: Array<{ object: string; type: EventType; reason: string; message: string }> } {
  const events: Array<{ object: string; type: EventType; reason: string; message: string }> = [];
  return {
    events,
    record(involved: KObject, type: EventType, reason: string, message: string) {
      events.push({ object: `${involved.metadata?.namespace}/${involved.metadata?.name}`, type, reason, message });
    },
    flush: async () => {},
  };
}

let rig: Rig;
let backend: Backend;
const recorder = collectingRecorder();

beforeAll(async () => {
  backend = await startBackend(BACKEND.ip, 8080);
  rig = await startRig({ events: recorder });
});

afterAll(async () => {
  await rig?.close();
  await backend?.close();
});

describe('the proxy guards the addresses it listens on', () => {
  it('refuses cross-cluster, own-range and off-loopback externalIPs, and keeps serving the rest (the Service whose ClusterIP one names sorts after it, so it would lose that address to a first-come claim)', async () => {
    rig.informers.upsert(svc('z-victim', { clusterIP: '127.51.96.41', ports: [{ port: 8080 }] }));
    rig.informers.upsert(slice('z-victim', [{ port: 8080 }], [BACKEND]));
    rig.informers.upsert(
      svc('thief', { clusterIP: '127.51.96.42', externalIPs: ['127.51.96.41', '127.119.96.20', '192.0.2.10', '127.52.0.41'], ports: [{ port: 8080 }] }),
    );
    rig.informers.upsert(slice('thief', [{ port: 8080 }], [BACKEND]));
    await rig.proxy.sync();

    const listening = rig.proxy.listeners().map((l) => `${l.address}:${l.port} ${l.service} ${l.role}`);
    expect(listening).toContain('127.51.96.41:8080 default/z-victim clusterIP');
    expect(listening).toContain('127.51.96.42:8080 default/thief clusterIP');
    expect(listening).toContain('127.52.0.41:8080 default/thief externalIP');
    expect(listening.filter((l) => l.includes('127.119.') || l.includes('192.0.2.'))).toEqual([]);
    expect((await curl('http://127.51.96.41:8080/')).body).toBe(`${BACKEND.ip}:8080`);

    const refused = rig.proxy.bindErrors().filter((e) => e.service === 'default/thief').map((e) => e.error).sort();
    expect(refused).toEqual([
      "refusing to listen on 127.119.96.20:8080/TCP (externalIP of default/thief): may not be in 127.119.0.0/16, address block 3 of another knet cluster on this machine: it would take that cluster's traffic",
      "refusing to listen on 127.51.96.41:8080/TCP (externalIP of default/thief): may not be in this cluster's service range (127.51.96.0/20)",
      'refusing to listen on 192.0.2.10:8080/TCP (externalIP of default/thief): must be a loopback address (127.0.0.0/8): this cluster serves Services on this machine only; start it with `knet up --allow-external-ips` to let them listen on other addresses',
    ]);
    const warnings = recorder.events.filter((e) => e.object === 'default/thief' && e.type === 'Warning' && e.reason === BIND_FAILED_REASON).map((e) => e.message).sort();
    expect(warnings).toEqual(refused);
  });

  it("refuses a ClusterIP outside the cluster's service range", async () => {
    rig.informers.upsert(svc('stray', { clusterIP: '127.119.96.20', ports: [{ port: 8080 }] }));
    rig.informers.upsert(slice('stray', [{ port: 8080 }], [BACKEND]));
    await rig.proxy.sync();
    expect(rig.proxy.listeners().filter((l) => l.service === 'default/stray')).toEqual([]);
    expect(rig.proxy.bindErrors().filter((e) => e.service === 'default/stray').map((e) => e.error)).toEqual([
      "refusing to listen on 127.119.96.20:8080/TCP (clusterIP of default/stray): is not in this cluster's service range (127.51.96.0/20)",
    ]);
  });

  it('refuses a LoadBalancer ingress IP outside the pool when it is not allowed, and serves the pool', async () => {
    rig.informers.upsert(svc('lb', { clusterIP: '127.51.96.43', type: 'LoadBalancer', ports: [{ port: 8080, nodePort: 30143 }] }, { lbIPs: ['127.51.255.243', '127.0.0.1'] }));
    rig.informers.upsert(slice('lb', [{ port: 8080 }], [BACKEND]));
    await rig.proxy.sync();
    const roles = rig.proxy.listeners().filter((l) => l.service === 'default/lb' && l.role === 'loadBalancer').map((l) => l.address);
    expect(roles).toEqual(['127.51.255.243']);
    expect(rig.proxy.bindErrors().filter((e) => e.service === 'default/lb').map((e) => e.address)).toEqual(['127.0.0.1']);
  });
});
