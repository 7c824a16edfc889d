/**
 * Component-test harness: a MemoryInformerFactory fed with hand-written objects, the
 * ingress controller on 127.52.0.x, echoserver pods on 127.52.1.x, and real curl.
 */
import { execFile } from 'node:child_process';
import { describe } from 'vitest';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Secret, Service } from 'kubernetes-types/core/v1.js';
import { clusterConfig } from '../../../dataplane/base/cluster-config.js';
import { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import type { KObject } from '../../../dataplane/base/model/object.js';
import { startEchoserver, type EchoserverHandle } from '../../../dataplane/node/runtime/echoserver.js';
import { nginxIngressClass } from '../../../ingress/ingress-class.js';
import { startIngress, type IngressHandle, type IngressOptions } from '../../../ingress/server.js';
import { selfSignedCertificateSync, type PemPair } from '../../../ingress/self-signed-certificate.js';
import { seededRandom } from '../../support/seeded-random.js';

export const NS = 'default';

export type HttpServerKind = 'lean' | 'node';

/**
 * The ingress's two client-side servers: the lean one (http1-server.ts, the default wherever
 * this Node's parser has the shape it expects) and node:http (the fallback, and the default
 * where it does not). Every ingress component test file runs its tests on both, one after the
 * other in the same file, so the addresses and ports it uses are free again for the second.
 */
export const HTTP_SERVERS: ReadonlyArray<{ httpServer: HttpServerKind; label: string }> = [
  { httpServer: 'lean', label: 'lean server' },
  { httpServer: 'node', label: 'node:http' },
];

/** `body` once per client-side server, each in a describe block of its own (its own beforeAll/afterAll). */
export function describeEachHttpServer(body: (httpServer: HttpServerKind) => void): void {
  for (const { httpServer, label } of HTTP_SERVERS) describe(label, () => body(httpServer));
}

export interface Pod {
  name: string;
  ip: string;
  port: number;
  server: EchoserverHandle;
  /** The echoserver's stdout (it logs each client's address). */
  stdout: string[];
}

export class World {
  readonly informers = new MemoryInformerFactory();
  readonly pods: Pod[] = [];
  ingress!: IngressHandle;
  readonly accessLog: string[] = [];
  private static fakeCert: PemPair | undefined;

  /** `httpServer`: the client-side server the ingress must run (start() fails when it runs the other). */
  constructor(
    readonly controllerIp: string,
    readonly httpServer: HttpServerKind = 'lean',
  ) {
    this.informers.upsert(nginxIngressClass() as KObject);
  }

  async start(extra: Partial<IngressOptions> = {}): Promise<this> {
    // An EC default certificate keeps the suite fast; the RSA fake cert is unit-tested.
    World.fakeCert ??= selfSignedCertificateSync({ organization: 'Acme Co', commonName: 'Kubernetes Ingress Controller Fake Certificate', dnsNames: ['ingress.local'] });
    this.ingress = await startIngress({
      informers: this.informers,
      config: clusterConfig(0),
      httpAddress: this.controllerIp,
      httpPort: 0,
      httpsPort: 0,
      accessLog: (line) => this.accessLog.push(line),
      defaultCertificate: World.fakeCert,
      httpServer: this.httpServer,
      // Seeded: a weighted canary's share is then the same every run (canary-affinity.test.ts).
      random: seededRandom(20),
      ...extra,
    });
    // A lean run that fell back to node:http would test node:http twice and the lean server never.
    if (this.ingress.httpServer !== this.httpServer) throw new Error(`the ingress serves with ${this.ingress.httpServer}, not ${this.httpServer}`);
    return this;
  }

  get http(): string {
    return `http://${this.controllerIp}:${this.ingress.ports.http}`;
  }

  get httpsPort(): number {
    return this.ingress.ports.https!;
  }

  /** Starts an echoserver pod for a Service. */
  async pod(name: string, ip: string, service: string, port = 8080): Promise<Pod> {
    const stdout: string[] = [];
    const server = await startEchoserver({ address: ip, port, env: { POD_NAME: name, NAMESPACE: NS, SERVICE_NAME: service }, stdout: (l) => stdout.push(l) });
    const pod = { name, ip, port: server.port, server, stdout };
    this.pods.push(pod);
    return pod;
  }

  apply(...objects: Array<KObject | object>): void {
    for (const o of objects) this.informers.upsert(o as KObject);
  }

  remove(obj: KObject | object): void {
    this.informers.remove(obj as KObject);
  }

  /** Waits for the debounced table rebuild (one event-loop turn) to land. */
  async settle(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  }

  async close(): Promise<void> {
    await this.ingress?.close();
    await Promise.all(this.pods.map((p) => p.server.close()));
  }
}

export function service(name: string, port = 80, targetPort = 8080, portName = 'http'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { ports: [{ name: portName, port, targetPort, protocol: 'TCP' }] } };
}

export function endpointSlice(service: string, pods: Array<Pick<Pod, 'name' | 'ip' | 'port'> & { ready?: boolean }>, portName = 'http'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-abc`, namespace: NS, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: portName, port: pods[0]?.port ?? 8080, protocol: 'TCP' }],
    endpoints: pods.map((p) => ({ addresses: [p.ip], conditions: { ready: p.ready ?? true }, targetRef: { kind: 'Pod', name: p.name, namespace: NS } })),
  };
}

export function tlsSecret(name: string, pair: PemPair): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name, namespace: NS },
    data: { 'tls.crt': Buffer.from(pair.cert).toString('base64'), 'tls.key': Buffer.from(pair.key).toString('base64') },
  };
}

export interface CurlResult {
  status: number;
  headers: Record<string, string[]>;
  body: string;
  stderr: string;
}

/** Runs curl with `-sS -i` and parses the final response's status, headers and body. */
export function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '-i', '--max-time', '10', ...args], { encoding: 'latin1', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && !stdout) {
        reject(new Error(`curl ${args.join(' ')} failed: ${stderr || err.message}`));
        return;
      }
      let rest = stdout;
      let head = '';
      // Skip interim responses (100 Continue) and keep the last header block.
      for (;;) {
        const end = rest.indexOf('\r\n\r\n');
        if (end < 0) {
          head = rest;
          rest = '';
          break;
        }
        head = rest.slice(0, end);
        rest = rest.slice(end + 4);
        if (!/^HTTP\/[\d.]+ 1\d\d/.test(head)) break;
      }
      const lines = head.split('\r\n');
      const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
      const headers: Record<string, string[]> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i < 0) continue;
        const k = l.slice(0, i).trim().toLowerCase();
        (headers[k] ??= []).push(l.slice(i + 1).trim());
      }
      resolve({ status, headers, body: rest, stderr });
    });
  });
}

/** Many requests in one curl process (one connection, reused); returns status and echoed pod per request. */
export function curlMany(url: string, count: number, args: string[] = []): Promise<Array<{ status: number; pod: string }>> {
  return new Promise((resolve, reject) => {
    const urls = Array.from({ length: count }, () => url);
    execFile('curl', ['-sS', '-w', '\\n@@%{http_code}\\n', ...args, ...urls], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && !stdout) {
        reject(new Error(stderr || err.message));
        return;
      }
      const out: Array<{ status: number; pod: string }> = [];
      let rest = stdout;
      for (;;) {
        const m = /\n@@(\d{3})\n/.exec(rest);
        if (!m) break;
        const body = rest.slice(0, m.index);
        rest = rest.slice(m.index + m[0].length);
        let pod = '';
        try {
          pod = (JSON.parse(body) as { pod?: string }).pod ?? '';
        } catch {
          pod = '';
        }
        out.push({ status: Number(m[1]), pod });
      }
      resolve(out);
    });
  });
}

export function json<T = Record<string, unknown>>(r: CurlResult): T {
  return JSON.parse(Buffer.from(r.body, 'latin1').toString('utf8')) as T;
}
