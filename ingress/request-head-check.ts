/**
 * The request-head rules nginx applies after reading the headers and before anything else
 * (ngx_http_process_host, ngx_http_process_request_header), which Node's parser does not:
 * each is a 400 and the connection is closed, so nothing behind the request on the wire is
 * read. Measured against nginx 1.22.1 on this machine with raw sockets:
 *
 * - a second `Host` line (any case, any value, empty included, HTTP/1.0 too): "client sent
 *   duplicate host header";
 * - an HTTP/1.0 request with any `Transfer-Encoding` (chunked, identity, gzip, chunked), since
 *   nginx 1.21.1: "client sent HTTP/1.0 request with "Transfer-Encoding" header" — an
 *   HTTP/1.0 peer does not know chunked framing, so such a request is a smuggling attempt;
 * - an HTTP/1.1 request without `Host`: "client sent HTTP/1.1 request without "Host" header".
 *
 * Both HTTP servers of the ingress call this (http1-server.ts from its parser's
 * headers-complete callback, server.ts for node:http), so they answer alike.
 */

/** The first rule `rawHeaders` ([name, value, …]) breaks, as an error with a code, or undefined. */
export function requestHeadError(major: number, minor: number, rawHeaders: readonly string[]): NodeJS.ErrnoException | undefined {
  let hosts = 0;
  let transferEncoding = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    // Cheap length test first: this runs for every request.
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
    else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') transferEncoding = true;
  }
  if (hosts > 1) return headError('KNET_DUPLICATE_HOST', 'client sent duplicate host header');
  const http11 = major > 1 || (major === 1 && minor >= 1);
  if (!http11 && transferEncoding) return headError('KNET_HTTP10_TRANSFER_ENCODING', 'client sent HTTP/1.0 request with "Transfer-Encoding" header');
  if (http11 && hosts === 0) return headError('KNET_MISSING_HOST', 'client sent HTTP/1.1 request without "Host" header');
  return undefined;
}

function headError(code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(message);
  err.code = code;
  return err;
}
