/**
 * `knet apiserver`, the kube-apiserver analog: the Kubernetes REST API over the cluster's store,
 * so kubectl and the client libraries work against knet.
 *
 *   store watch → WatchCache (every kind + a window of events)   watch-cache.ts
 *              → router and handlers (pure request → reply)     router.ts, read/write/patch/…
 *              → HTTPS shell with client-certificate auth       server.ts, authn.ts
 *
 * Reads (GET, LIST, WATCH) come from the cache; writes go through the same admission, defaulting
 * and allocation as `knet apply` (dataplane/api/writes.ts). It serves on the cluster's
 * apiServerAddress:6443, the endpoint of the `kubernetes` Service.
 */
import type { ObjectStore } from '../base/store/object-store.js';
import type { StoreInformerFactory } from '../base/store/watch.js';
import type { ClusterConfig } from '../base/cluster-config.js';
import type { Logger } from '../base/log.js';
import { ensurePki, servingNames, type Pki } from './pki.js';
import { WatchCache } from './watch-cache.js';
import { serve } from './server.js';
import type { ApiContext } from './api-request.js';
import { openapiRoutes } from './openapi/openapi-routes.js';
import { podStreamUpgrade } from './pod-stream-proxy.js';
import { upgradeRoutes } from './upgrade.js';
import { PortForwardRoute } from './portforward/port-forward.js';
import { API_RESOURCES } from '../base/model/api-resources.js';
import { TokenIssuer } from '../base/serviceaccount/token-issuer.js';
import { serviceAccountAuthenticator, tokenReviewer } from './authn.js';

export interface ApiServerOptions {
  store: ObjectStore;
  informers: StoreInformerFactory;
  config: ClusterConfig;
  log: Logger;
  /** Where the cluster's CA and credentials live (created at the first start). */
  pkiDir: string;
  podLogsRoot?: string;
  /** Defaults: the cluster's apiServerAddress and apiServerPort. */
  host?: string;
  port?: number;
}

export interface ApiServer {
  address: string;
  port: number;
  pki: Pki;
  cache: WatchCache;
  counters: ApiContext['counters'];
  close(): Promise<void>;
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { config } = opts;
  const pki = await ensurePki(opts.pkiDir, servingNames(config.apiServerAddress, config.kubernetesServiceIP, config.clusterDomain));
  const cache = new WatchCache(opts.informers);
  await cache.start();
  const counters = { requests: 0, errors: 0, watches: 0 };
  const tokens = new TokenIssuer({ key: pki.serviceAccountKey, clusterDomain: config.clusterDomain });
  const ctx: ApiContext = { cache, store: opts.store, config, log: opts.log, podLogsRoot: opts.podLogsRoot, counters, tokens, reviewToken: tokenReviewer(pki.adminToken, tokens, cache) };
  const host = opts.host ?? config.apiServerAddress;
  const port = opts.port ?? config.apiServerPort;
  const portForward = new PortForwardRoute(ctx);
  // The admin's certificate or token, or a service-account token: the same for every request, upgraded or not.
  const credentials = { token: pki.adminToken, bearer: serviceAccountAuthenticator(tokens, cache) };
  let shell;
  try {
    shell = await serve(ctx, {
      host,
      port,
      tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert },
      credentials,
      // /openapi/v3, from the upstream schemas of the kinds served (kubectl apply, create -f, explain).
      rawRoutes: openapiRoutes(API_RESOURCES),
      // pods/exec and pods/attach, passed through to the pod's node; pods/portforward, served here.
      upgrade: upgradeRoutes(ctx, { credentials, portForward, podStreams: podStreamUpgrade(ctx, credentials) }),
    });
  } catch (err) {
    portForward.close();
    cache.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new Error(`the apiserver cannot listen on ${host}:${port}: the address is in use (another cluster or program holds it)`);
    if (e.code === 'EADDRNOTAVAIL') throw new Error(`the apiserver cannot listen on ${host}:${port}: the address is not on this machine (macOS: sudo ifconfig lo0 alias ${host} up)`);
    throw err;
  }
  opts.log.info('serving the Kubernetes API', { address: `https://${host}:${port}` });
  return {
    address: host,
    port,
    pki,
    cache,
    counters,
    close: async () => {
      portForward.close();
      await shell.close();
      cache.close();
    },
  };
}
