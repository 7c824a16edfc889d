/**
 * The request and reply values the handlers work with, apart from sockets: the shell
 * (server.ts) turns an HTTP request into an ApiRequest and writes the Reply back. A Reply is a
 * whole body, or a stream (watch, following logs) the shell pipes to the connection.
 */
import type { ObjectStore } from '../base/store/object-store.js';
import type { ClusterConfig } from '../base/cluster-config.js';
import type { Logger } from '../base/log.js';
import type { WatchCache } from './watch-cache.js';
import type { Status } from './status.js';
import type { TokenIssuer } from '../base/serviceaccount/token-issuer.js';
import type { TokenReviewer } from './token-review.js';

export interface User {
  name: string;
  groups: string[];
  /** A service account's uid (tokens), as user.Info's UID. */
  uid?: string;
  /** user.Info's Extra: the pod a token is bound to, its credential id. */
  extra?: Record<string, string[]>;
}

export interface ApiRequest {
  method: string;
  pathname: string;
  query: URLSearchParams;
  headers: { accept?: string; contentType?: string; userAgent?: string };
  body?: Buffer;
  user: User;
}

/** Where a streaming reply writes; `write` returns false when the client is not keeping up. */
export interface StreamSink {
  write(chunk: string | Buffer): boolean;
  /** Bytes written but not yet sent to the client. */
  buffered(): number;
  end(): void;
  /** Called once when the client goes away or the server closes. */
  onClose(fn: () => void): void;
}

export type Reply =
  | { code: number; contentType: string; body: string | Buffer; headers?: Record<string, string> }
  | { code: number; contentType: string; stream: (sink: StreamSink) => void; headers?: Record<string, string> };

export interface ApiContext {
  cache: WatchCache;
  store: ObjectStore;
  config: ClusterConfig;
  log: Logger;
  /** Where a pod's container logs are (the node agents write them); undefined when not on this machine. */
  podLogsRoot?: string;
  /** Service-account tokens: TokenRequest issues them, the authenticator checks them. */
  tokens?: TokenIssuer;
  /** TokenReview: who a bearer token is for given audiences (authn.ts tokenReviewer). */
  reviewToken?: TokenReviewer;
  /** Open watch streams, counted for the metrics and the 1,000-watch check. */
  counters: { requests: number; errors: number; watches: number };
}

export const JSON_TYPE = 'application/json';

export function jsonReply(code: number, body: unknown, contentType = JSON_TYPE, headers?: Record<string, string>): Reply {
  return { code, contentType, body: typeof body === 'string' ? body : JSON.stringify(body), ...(headers ? { headers } : {}) };
}

export function statusReply(status: Status, headers?: Record<string, string>): Reply {
  return jsonReply(status.code, status, JSON_TYPE, headers);
}

/** `Warning: 299 - "text"` headers (RFC 7234), one value per warning, as the apiserver sends them. */
export function warningHeaders(warnings: readonly string[]): Record<string, string> | undefined {
  if (!warnings.length) return undefined;
  return { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') };
}
