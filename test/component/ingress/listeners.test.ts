/**
 * Listeners: NodePort-style extra listeners serve the same routes, and a port that cannot
 * be bound is reported while the others keep serving (as when 80/443 need privilege).
 * Every test runs twice: on the lean server and on node:http (describeEachHttpServer).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../dataplane/base/log.js';
import { curl, endpointSlice, NS, service, describeEachHttpServer, World } from './harness.js';
import { closesDone, loopUntil, trackTimers } from '../../support/leak-check.js';

interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

describeEachHttpServer((httpServer) => {
  const w = new World('127.52.0.6', httpServer);
  let blocker: net.Server;
  let blockedPort: number;
  const lines: LogLine[] = [];

  beforeAll(async () => {
    blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.52.0.6', () => r()));
    blockedPort = (blocker.address() as net.AddressInfo).port;
    const pod = await w.pod('web-1', '127.52.7.1', 'web');
    await w.start({
      httpsPort: blockedPort,
      extraListeners: [{ address: '127.52.0.7', port: 0, tls: false }, { address: '127.52.0.7', port: 0, tls: true }],
      log: createLogger('ingress', { write: (l) => lines.push(JSON.parse(l) as LogLine) }),
    });
    w.apply(service('web'), endpointSlice('web', [pod]), {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web', namespace: NS },
      spec: { ingressClassName: 'nginx', rules: [{ host: 'web.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    });
    await w.settle();
  });
  afterAll(async () => {
    await w.close();
    blocker.close();
  });

  describe('listeners', () => {
    it('the start log names the HTTP server and the TCP byte path (native handles on every Node the suite runs on)', () => {
      const serving = lines.find((l) => l.msg === 'ingress controller serving');
      expect(serving).toMatchObject({ httpServer: httpServer === 'lean' ? 'lean' : 'node:http', tcpFastPath: 'native handles' });
      expect(lines.filter((l) => l.level === 'warn' && /slower/.test(l.msg))).toEqual([]);
    });

    it('reports the port it could not bind and serves on the others', async () => {
      const failed = w.ingress.listeners.find((l) => l.error);
      expect(failed).toMatchObject({ address: '127.52.0.6', port: blockedPort, tls: true });
      expect(failed!.error).toMatch(/EADDRINUSE/);
      expect(w.ingress.ports.https).toBeUndefined();
      const r = await curl(['-H', 'Host: web.example.com', `${w.http}/`]);
      expect(JSON.parse(r.body).pod).toBe('web-1');
    });

    it('extra (NodePort) listeners serve HTTP and HTTPS', async () => {
      const [plain, tls] = w.ingress.listeners.filter((l) => l.address === '127.52.0.7');
      const r = await curl(['-H', 'Host: web.example.com', `http://127.52.0.7:${plain!.port}/x`]);
      expect(JSON.parse(r.body).pod).toBe('web-1');
      const s = await curl(['-k', '--resolve', `web.example.com:${tls!.port}:127.52.0.7`, `https://web.example.com:${tls!.port}/x`]);
      expect(JSON.parse(s.body).headers['X-Forwarded-Port']).toEqual(['443']);
    });
  });

  describe('close()', () => {
    it('frees every listener, socket and timer it created', async () => {
      const count = () => {
        const by: Record<string, number> = {};
        for (const r of process.getActiveResourcesInfo()) if (/^(TCP|TLS|Timeout|Immediate)/.test(r)) by[r] = (by[r] ?? 0) + 1;
        return by;
      };
      const pod = await w.pod('web-2', '127.52.7.2', 'web2');
      const before = count();
      const timers = trackTimers();
      const v = new World('127.52.0.8', httpServer);
      await v.start({ sourceAddress: '127.52.0.253' });
      v.apply(service('web2'), endpointSlice('web2', [pod]), {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'web2', namespace: NS },
        spec: { ingressClassName: 'nginx', tls: [{ hosts: ['web2.example.com'] }], rules: [{ host: 'web2.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web2', port: { number: 80 } } } }] } }] },
      });
      await v.settle();
      const https = await curl(['-k', '--resolve', `web2.example.com:${v.httpsPort}:127.52.0.8`, `https://web2.example.com:${v.httpsPort}/`]);
      expect(https.status).toBe(200);
      const redirect = await curl(['-H', 'Host: web2.example.com', `${v.http}/`]);
      expect(redirect.status).toBe(308);
      await v.ingress.close();
      // Closed handles leave the list, and immediates already queued run, in the next loop turns;
      // the pod's end of the ingress's connections closes once it has read their FIN.
      await closesDone();
      timers.stop();
      expect(timers.pending()).toEqual([]);
      await loopUntil(() => Object.entries(count()).every(([kind, n]) => n <= (before[kind] ?? 0)));
      // Nothing of ours is left: no more handles of any kind than before (earlier tests' timers may have expired meanwhile).
      const after = count();
      for (const [kind, n] of Object.entries(after)) expect(n, kind).toBeLessThanOrEqual(before[kind] ?? 0);
    });
  });
});
