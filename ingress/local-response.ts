/**
 * Responses the controller writes itself (nginx's `return`): error pages, redirects, the
 * CORS preflight 204. Bodies are nginx's stock pages; HEAD gets the headers only.
 */
import type { ResponseLike } from './http1-response.js';
import { errorPage, hasNoBody } from './error-pages.js';

export function writeLocal(res: ResponseLike, status: number, headers: Array<[string, string]>, extra: readonly string[], method: string | undefined): number {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return 0;
  }
  const out: string[] = [];
  let contentLengthSet = false;
  for (const [k, v] of headers) {
    out.push(k, v);
    if (k.toLowerCase() === 'content-length') contentLengthSet = true;
  }
  out.push(...extra);
  let body: Buffer | undefined;
  if (!hasNoBody(status) && !contentLengthSet) {
    body = errorPage(status);
    out.push('Content-Type', 'text/html', 'Content-Length', String(body.length));
  }
  // nginx closes the connection after these: the rest of the request cannot be trusted.
  if (status === 400 || status === 413 || status === 408) out.push('Connection', 'close');
  try {
    res.writeHead(status, out);
    if (method === 'HEAD' || !body) res.end();
    else res.end(body);
  } catch {
    res.destroy();
    return 0;
  }
  return method === 'HEAD' || !body ? 0 : body.length;
}
