/**
 * CORS as ingress-nginx's template does it (nginx.tmpl "CORS", buildCorsOriginRegex):
 * with `*` every response gets `Access-Control-Allow-Origin: *`, Origin header or not; with
 * a list the Origin is matched case-insensitively (`*.` = one label) and echoed back; a
 * non-matching origin gets no CORS headers at all.
 */
import type { CorsConfig } from './annotations.js';

/** The CORS headers for a response, or undefined when CORS does not apply. */
export function corsHeaders(cors: CorsConfig, origin: string | undefined): Array<[string, string]> | undefined {
  if (!cors.enabled) return undefined;
  let allowOrigin: string;
  if (cors.allowOrigin.includes('*')) {
    allowOrigin = '*';
  } else {
    if (!origin || !cors.allowOrigin.some((o) => originMatches(o, origin))) return undefined;
    allowOrigin = origin;
  }
  const out: Array<[string, string]> = [['Access-Control-Allow-Origin', allowOrigin]];
  if (cors.allowCredentials) out.push(['Access-Control-Allow-Credentials', 'true']);
  out.push(['Access-Control-Allow-Methods', cors.allowMethods]);
  out.push(['Access-Control-Allow-Headers', cors.allowHeaders]);
  if (cors.exposeHeaders) out.push(['Access-Control-Expose-Headers', cors.exposeHeaders]);
  out.push(['Access-Control-Max-Age', String(cors.maxAge)]);
  return out;
}

/** `https://*.example.com` matches `https://a.example.com` (one label), case-insensitively. */
export function originMatches(allowed: string, origin: string): boolean {
  const a = allowed.toLowerCase();
  const o = origin.toLowerCase();
  const star = a.indexOf('://*.');
  if (star < 0) return a === o;
  const scheme = a.slice(0, star + 3);
  const rest = a.slice(star + 4); // ".example.com[:port]"
  if (!o.startsWith(scheme) || !o.endsWith(rest)) return false;
  const label = o.slice(scheme.length, o.length - rest.length);
  return /^[a-z0-9-]+$/.test(label);
}
