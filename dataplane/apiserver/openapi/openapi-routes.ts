/**
 * `GET /openapi/v3` and `GET /openapi/v3/<group-version>[?hash=…]`, as kube-openapi's
 * handler3 serves them:
 *
 * - the index lists each group-version's `serverRelativeURL` with the document's hash;
 * - a document is served in JSON (`Accept` naming only the protobuf form gets 406: we do not
 *   produce it, and kubectl asks for JSON), with `Etag`, `Vary: Accept`, and `304` for a
 *   matching `If-None-Match`;
 * - with `?hash=` equal to the current one: `Cache-Control: public, immutable` and an `Expires`
 *   a year ahead; with a stale hash: `301` to the current URL.
 *
 * The handler answers only these paths; it returns false for anything else so the server can
 * route on.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildOpenApiDocuments, openApiIndex, serverRelativeURL, type OpenApiResource } from './openapi-documents.js';
import { createHash } from 'node:crypto';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const PREFIX = '/openapi/v3';
const YEAR_MS = 365 * 24 * 3600 * 1000;

/** Builds the documents of `resources` once and returns the handler that serves them. */
export function openapiRoutes(resources: readonly OpenApiResource[]): RouteHandler {
  const docs = buildOpenApiDocuments(resources);
  const index = openApiIndex(docs);
  const indexEtag = createHash('sha512').update(index).digest('hex').toUpperCase();
  const lastModified = new Date().toUTCString();

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== PREFIX && !url.pathname.startsWith(`${PREFIX}/`)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET, HEAD' }, Buffer.from('Method Not Allowed\n'), req);
      return true;
    }
    if (url.pathname === PREFIX || url.pathname === `${PREFIX}/`) {
      serveContent(req, res, { 'Content-Type': 'application/json', Etag: `"${indexEtag}"`, 'Last-Modified': lastModified }, index, indexEtag);
      return true;
    }
    const doc = docs.get(url.pathname.slice(PREFIX.length + 1));
    if (!doc) {
      send(res, 404, { 'Content-Type': 'text/plain; charset=utf-8' }, Buffer.from('404 page not found\n'), req);
      return true;
    }
    const headers: Record<string, string> = { Vary: 'Accept' };
    if (!acceptsJson(req.headers.accept)) {
      send(res, 406, headers, Buffer.alloc(0), req);
      return true;
    }
    const hash = url.searchParams.get('hash');
    if (hash && hash !== doc.etag) {
      send(res, 301, { ...headers, Location: serverRelativeURL(doc), 'Content-Type': 'text/html; charset=utf-8' }, Buffer.from(`<a href="${serverRelativeURL(doc)}">Moved Permanently</a>.\n\n`), req);
      return true;
    }
    Object.assign(headers, { 'Content-Type': 'application/json', Etag: `"${doc.etag}"`, 'Last-Modified': lastModified });
    if (hash) Object.assign(headers, { 'Cache-Control': 'public, immutable', Expires: new Date(Date.now() + YEAR_MS).toUTCString() });
    serveContent(req, res, headers, doc.body, doc.etag);
    return true;
  };
}

/** Whether an Accept header admits application/json (absent, `*` and `application/*` do). */
export function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').some((clause) => {
    const [type, ...params] = clause.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q && Number(q.slice(2)) === 0) return false;
    const [main, sub] = (type ?? '').trim().toLowerCase().split('/');
    return (main === '*' || main === 'application') && (sub === '*' || sub === 'json');
  });
}

/** http.ServeContent's conditional GET: 304 when If-None-Match names the current Etag. */
function serveContent(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>, body: Buffer, etag: string): void {
  const inm = req.headers['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim() === `"${etag}"` || t.trim() === '*')) {
    const { 'Content-Type': _ct, ...rest } = headers;
    send(res, 304, rest, Buffer.alloc(0), req);
    return;
  }
  send(res, 200, headers, body, req);
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer, req: IncomingMessage): void {
  res.writeHead(status, { ...headers, ...(status === 304 ? {} : { 'Content-Length': String(body.length) }) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
