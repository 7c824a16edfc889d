/**
 * nginx's stock response pages (ngx_http_special_response.c), which ingress-nginx sends for
 * the default backend's 404, redirects and its own errors: CRLF line endings, `text/html`,
 * footer `<hr><center>nginx</center>` (so the 404 page is 146 bytes, as ingress-nginx's).
 */

export const STATUS_TEXT: Record<number, string> = {
  204: 'No Content',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Not Allowed',
  408: 'Request Time-out',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  431: 'Request Header Fields Too Large',
  494: 'Request Header Or Cookie Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

const pages = new Map<number, Buffer>();

/** The page body for a status (cached; these are sent on hot error paths). */
export function errorPage(status: number): Buffer {
  let page = pages.get(status);
  if (!page) {
    const title = `${status} ${STATUS_TEXT[status] ?? 'Error'}`;
    page = Buffer.from(
      `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
    );
    pages.set(status, page);
  }
  return page;
}

/** Statuses nginx answers without a body. */
export function hasNoBody(status: number): boolean {
  return status === 204 || status === 304 || (status >= 100 && status < 200);
}
