/**
 * `nginx.ingress.kubernetes.io/*` annotations → a typed config, with ingress-nginx's
 * defaults (its ConfigMap defaults) and its error semantics:
 *  - a value failing its validator refuses the whole Ingress (annotations.go Extract);
 *  - a bad whitelist/denylist range only "denies" the location, which then answers 503;
 *  - snippet annotations are Critical risk, above the default `annotations-risk-level`
 *    High, so the Ingress is refused with ingress-nginx's reason;
 *  - unknown annotations under the prefix are ignored with a warning.
 */

export const ANNOTATION_PREFIX = 'nginx.ingress.kubernetes.io/';

export type BackendProtocol = 'HTTP' | 'HTTPS' | 'GRPC' | 'GRPCS' | 'FCGI' | 'AUTO_HTTP';

export interface CookieAffinity {
  mode: 'balanced' | 'persistent';
  canaryBehavior: 'sticky' | 'legacy';
  name: string;
  /** Unset means "the Ingress path", decided per location. */
  path?: string;
  domain?: string;
  /** Seconds, for the Expires attribute. */
  expires?: number;
  maxAge?: number;
  /** Unset means "on HTTPS only". */
  secure?: boolean;
  sameSite?: string;
  conditionalSameSiteNone: boolean;
  changeOnFailure: boolean;
}

export interface CanaryConfig {
  enabled: boolean;
  weight: number;
  weightTotal: number;
  header?: string;
  headerValue?: string;
  headerPattern?: string;
  cookie?: string;
}

export interface CorsConfig {
  enabled: boolean;
  /** `['*']` or a list of origins (`*.` allowed as the first label). */
  allowOrigin: string[];
  allowMethods: string;
  allowHeaders: string;
  exposeHeaders: string;
  allowCredentials: boolean;
  maxAge: number;
}

export interface RedirectConfig {
  url: string;
  code: number;
}

export interface IngressAnnotations {
  rewriteTarget?: string;
  useRegex: boolean;
  appRoot?: string;
  sslRedirect: boolean;
  forceSslRedirect: boolean;
  preserveTrailingSlash: boolean;
  affinity?: CookieAffinity;
  canary: CanaryConfig;
  backendProtocol: BackendProtocol;
  /** Seconds. */
  proxyConnectTimeout: number;
  proxySendTimeout: number;
  proxyReadTimeout: number;
  /** Bytes; 0 means unlimited. */
  proxyBodySize: number;
  proxyNextUpstream: string[];
  proxyNextUpstreamTries: number;
  /** Seconds; 0 means no limit. */
  proxyNextUpstreamTimeout: number;
  upstreamHashBy?: string;
  loadBalance: 'round_robin' | 'ewma';
  cors: CorsConfig;
  allowlist?: string[];
  denylist?: string[];
  /** Set when an annotation "denies" the location (ingress-nginx then answers 503). */
  denied?: string;
  redirect?: RedirectConfig;
  aliases: string[];
  /** A Service in the Ingress's namespace that replaces the default backend. */
  defaultBackend?: string;
  customHttpErrors: number[];
  upstreamVhost?: string;
  xForwardedPrefix?: string;
}

export interface AnnotationResult {
  config: IngressAnnotations;
  warnings: string[];
  /** Set when ingress-nginx would not serve the Ingress at all; the reason says why. */
  refused?: string;
}

export const CORS_DEFAULTS: CorsConfig = {
  enabled: false,
  allowOrigin: ['*'],
  allowMethods: 'GET, PUT, POST, DELETE, PATCH, OPTIONS',
  allowHeaders: 'DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization',
  exposeHeaders: '',
  allowCredentials: true,
  maxAge: 1728000,
};

export function defaultAnnotations(): IngressAnnotations {
  return {
    useRegex: false,
    sslRedirect: true,
    forceSslRedirect: false,
    preserveTrailingSlash: false,
    canary: { enabled: false, weight: 0, weightTotal: 100 },
    backendProtocol: 'HTTP',
    proxyConnectTimeout: 5,
    proxySendTimeout: 60,
    proxyReadTimeout: 60,
    proxyBodySize: 1024 * 1024,
    proxyNextUpstream: ['error', 'timeout'],
    proxyNextUpstreamTries: 3,
    proxyNextUpstreamTimeout: 0,
    loadBalance: 'round_robin',
    cors: { ...CORS_DEFAULTS },
    aliases: [],
    customHttpErrors: [],
  };
}

/** Annotations ingress-nginx knows that knet accepts but does not act on. */
const KNOWN_NOT_IMPLEMENTED = new Set(
  ('auth-always-set-cookie auth-cache-key auth-keepalive auth-keepalive-requests auth-keepalive-share-vars auth-method ' +
    'auth-proxy-set-headers auth-realm auth-request-redirect auth-response-headers auth-secret auth-secret-type auth-signin ' +
    'auth-signin-redirect-param auth-type auth-url client-body-buffer-size connection-proxy-header custom-headers ' +
    'disable-proxy-intercept-errors enable-access-log enable-global-auth enable-modsecurity enable-opentelemetry ' +
    'enable-owasp-core-rules enable-rewrite-log fastcgi-index fastcgi-params-configmap from-to-www-redirect limit-allowlist ' +
    'limit-burst-multiplier limit-connections limit-rate limit-rate-after limit-rpm limit-rps limit-whitelist mirror-host ' +
    'mirror-request-body mirror-target modsecurity-transaction-id opentelemetry-operation-name ' +
    'opentelemetry-trust-incoming-span proxy-buffer-size proxy-buffering proxy-buffers-number proxy-busy-buffers-size ' +
    'proxy-cookie-domain proxy-cookie-path proxy-http-version proxy-max-temp-file-size proxy-redirect-from ' +
    'proxy-redirect-to proxy-request-buffering proxy-ssl-ciphers proxy-ssl-name proxy-ssl-protocols proxy-ssl-secret ' +
    'proxy-ssl-server-name proxy-ssl-verify proxy-ssl-verify-depth relative-redirects satisfy service-upstream ' +
    'session-cookie-hash ssl-ciphers ssl-passthrough ssl-prefer-server-ciphers upstream-hash-by-subset ' +
    'upstream-hash-by-subset-size use-port-in-redirects').split(' '),
);

class Invalid extends Error {}

/** Parses one Ingress's annotations. Never throws: problems become warnings or a refusal. */
export function parseAnnotations(annotations: Record<string, string> | undefined): AnnotationResult {
  const config = defaultAnnotations();
  const warnings: string[] = [];
  const a: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations ?? {})) {
    if (k.startsWith(ANNOTATION_PREFIX)) a[k.slice(ANNOTATION_PREFIX.length)] = String(v);
  }

  for (const name of Object.keys(a).sort()) {
    if (name.endsWith('-snippet')) {
      return {
        config,
        warnings,
        refused: `${ANNOTATION_PREFIX}${name} annotation cannot be used. Snippet directives are disabled by the Ingress administrator`,
      };
    }
  }

  const has = (name: string) => Object.prototype.hasOwnProperty.call(a, name);
  const str = (name: string, re?: RegExp): string | undefined => {
    if (!has(name)) return undefined;
    const v = a[name]!.split('\n').map((l) => l.trim()).join('\n');
    if (v === '') throw new Invalid(`annotation ${ANNOTATION_PREFIX}${name} is empty`);
    if (re && !re.test(v)) throw new Invalid(`annotation ${ANNOTATION_PREFIX}${name} has an invalid value ${JSON.stringify(v)}`);
    return v;
  };
  const bool = (name: string): boolean | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
    if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
    throw new Invalid(`annotation ${ANNOTATION_PREFIX}${name} must be a boolean, got ${JSON.stringify(v)}`);
  };
  const int = (name: string): number | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    if (!/^[+-]?\d+$/.test(v)) throw new Invalid(`annotation ${ANNOTATION_PREFIX}${name} must be an integer, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  const option = <T extends string>(name: string, options: readonly T[]): T | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    const hit = options.find((o) => o.toLowerCase() === v.toLowerCase());
    if (!hit) throw new Invalid(`annotation ${ANNOTATION_PREFIX}${name} must be one of ${options.join(', ')}, got ${JSON.stringify(v)}`);
    return hit;
  };

  const pathWithCapture = /^\/?[-._~a-zA-Z0-9/:$]*$/;
  const basicChars = /^[/\-._~a-zA-Z0-9:]*$/;
  try {
    config.rewriteTarget = str('rewrite-target', pathWithCapture);
    config.useRegex = bool('use-regex') ?? config.useRegex;
    config.appRoot = str('app-root', pathWithCapture);
    config.sslRedirect = bool('ssl-redirect') ?? config.sslRedirect;
    config.forceSslRedirect = bool('force-ssl-redirect') ?? config.forceSslRedirect;
    config.preserveTrailingSlash = bool('preserve-trailing-slash') ?? config.preserveTrailingSlash;

    if (option('affinity', ['cookie'] as const)) {
      config.affinity = {
        mode: option('affinity-mode', ['balanced', 'persistent'] as const) ?? 'balanced',
        canaryBehavior: option('affinity-canary-behavior', ['sticky', 'legacy'] as const) ?? 'sticky',
        name: str('session-cookie-name', basicChars) ?? 'INGRESSCOOKIE',
        path: str('session-cookie-path', /^[-._~a-zA-Z0-9/:,?&=]*$/),
        domain: str('session-cookie-domain', basicChars),
        expires: numeric(str('session-cookie-expires', /^(0|-?[1-9]\d*)$/)),
        maxAge: numeric(str('session-cookie-max-age', /^(0|-?[1-9]\d*)$/)),
        secure: bool('session-cookie-secure'),
        sameSite: option('session-cookie-samesite', ['None', 'Lax', 'Strict'] as const),
        conditionalSameSiteNone: bool('session-cookie-conditional-samesite-none') ?? false,
        changeOnFailure: bool('session-cookie-change-on-failure') ?? false,
      };
    }

    config.canary = {
      enabled: bool('canary') ?? false,
      weight: int('canary-weight') ?? 0,
      weightTotal: int('canary-weight-total') ?? 100,
      header: str('canary-by-header', basicChars),
      headerValue: str('canary-by-header-value', basicChars),
      headerPattern: str('canary-by-header-pattern'),
      cookie: str('canary-by-cookie', basicChars),
    };
    if (config.canary.headerPattern !== undefined && !compiles(config.canary.headerPattern)) {
      throw new Invalid(`annotation ${ANNOTATION_PREFIX}canary-by-header-pattern is not a valid regular expression`);
    }

    config.backendProtocol = option('backend-protocol', ['HTTP', 'HTTPS', 'GRPC', 'GRPCS', 'FCGI', 'AUTO_HTTP'] as const) ?? 'HTTP';
    if (['GRPC', 'GRPCS', 'FCGI'].includes(config.backendProtocol)) {
      warnings.push(`backend-protocol ${config.backendProtocol} is not supported by knet; requests are proxied as HTTP/1.1`);
    }
    config.proxyConnectTimeout = int('proxy-connect-timeout') ?? config.proxyConnectTimeout;
    config.proxySendTimeout = int('proxy-send-timeout') ?? config.proxySendTimeout;
    config.proxyReadTimeout = int('proxy-read-timeout') ?? config.proxyReadTimeout;
    const body = str('proxy-body-size', /^\d+[bkmg]?$/i);
    if (body !== undefined) config.proxyBodySize = parseSize(body);
    const next = str('proxy-next-upstream', /^[a-z0-9_ ]*$/);
    if (next !== undefined) config.proxyNextUpstream = next.split(/\s+/).filter(Boolean);
    config.proxyNextUpstreamTries = int('proxy-next-upstream-tries') ?? config.proxyNextUpstreamTries;
    config.proxyNextUpstreamTimeout = int('proxy-next-upstream-timeout') ?? config.proxyNextUpstreamTimeout;

    config.upstreamHashBy = str('upstream-hash-by', /^[$a-zA-Z0-9_\-{}]+$/);
    const lb = option('load-balance', ['round_robin', 'chash', 'chashsubset', 'sticky_balanced', 'sticky_persistent', 'ewma'] as const);
    if (lb === 'ewma' || lb === 'round_robin') config.loadBalance = lb;
    else if (lb) warnings.push(`load-balance ${lb} is not a standalone algorithm; using round_robin`);

    config.cors = {
      enabled: bool('enable-cors') ?? false,
      allowOrigin: parseOrigins(str('cors-allow-origin', /^[-a-zA-Z0-9.*:/, ]*$/)),
      allowMethods: str('cors-allow-methods', /^[A-Za-z, ]*$/) ?? CORS_DEFAULTS.allowMethods,
      allowHeaders: str('cors-allow-headers', /^[A-Za-z0-9\-_, ]*$/) ?? CORS_DEFAULTS.allowHeaders,
      exposeHeaders: str('cors-expose-headers', /^[A-Za-z0-9\-_, *]*$/) ?? CORS_DEFAULTS.exposeHeaders,
      allowCredentials: bool('cors-allow-credentials') ?? CORS_DEFAULTS.allowCredentials,
      maxAge: int('cors-max-age') ?? CORS_DEFAULTS.maxAge,
    };

    const allow = has('whitelist-source-range') ? 'whitelist-source-range' : has('allowlist-source-range') ? 'allowlist-source-range' : undefined;
    if (allow) {
      const ranges = parseRanges(a[allow]!);
      if (typeof ranges === 'string') config.denied = `${ANNOTATION_PREFIX}${allow}: ${ranges}`;
      else config.allowlist = ranges;
    }
    if (has('denylist-source-range')) {
      const ranges = parseRanges(a['denylist-source-range']!);
      if (typeof ranges === 'string') config.denied ??= `${ANNOTATION_PREFIX}denylist-source-range: ${ranges}`;
      else config.denylist = ranges;
    }

    const temporal = str('temporal-redirect');
    const permanent = str('permanent-redirect');
    if (temporal !== undefined) {
      assertUrl('temporal-redirect', temporal);
      const code = int('temporal-redirect-code');
      config.redirect = { url: temporal, code: code !== undefined && code >= 300 && code <= 307 ? code : 302 };
    } else if (permanent !== undefined) {
      assertUrl('permanent-redirect', permanent);
      const code = int('permanent-redirect-code');
      config.redirect = { url: permanent, code: code !== undefined && code >= 300 && code <= 308 ? code : 301 };
    }

    const aliases = str('server-alias', /^[-a-zA-Z0-9.*~^$\\, ]*$/);
    if (aliases !== undefined) config.aliases = aliases.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    config.defaultBackend = str('default-backend', /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
    const errors = str('custom-http-errors', /^(\s*[1-5]\d\d\s*,?)*$/);
    if (errors !== undefined) config.customHttpErrors = errors.split(',').map((s) => Number(s.trim())).filter((n) => n > 0);
    config.upstreamVhost = str('upstream-vhost', /^[-a-zA-Z0-9.:]+$/);
    config.xForwardedPrefix = str('x-forwarded-prefix', pathWithCapture);
  } catch (err) {
    if (err instanceof Invalid) return { config, warnings, refused: err.message };
    throw err;
  }

  for (const name of Object.keys(a).sort()) {
    if (KNOWN_ANNOTATIONS.has(name)) continue;
    if (KNOWN_NOT_IMPLEMENTED.has(name)) warnings.push(`annotation ${ANNOTATION_PREFIX}${name} is not implemented by knet and is ignored`);
    else warnings.push(`unknown annotation ${ANNOTATION_PREFIX}${name} is ignored`);
  }
  return { config, warnings };
}

const KNOWN_ANNOTATIONS = new Set(
  ('rewrite-target use-regex app-root ssl-redirect force-ssl-redirect preserve-trailing-slash affinity affinity-mode ' +
    'affinity-canary-behavior session-cookie-name session-cookie-path session-cookie-domain session-cookie-expires ' +
    'session-cookie-max-age session-cookie-secure session-cookie-samesite session-cookie-conditional-samesite-none ' +
    'session-cookie-change-on-failure canary canary-weight canary-weight-total canary-by-header canary-by-header-value ' +
    'canary-by-header-pattern canary-by-cookie backend-protocol proxy-connect-timeout proxy-send-timeout ' +
    'proxy-read-timeout proxy-body-size proxy-next-upstream proxy-next-upstream-tries proxy-next-upstream-timeout ' +
    'upstream-hash-by load-balance enable-cors cors-allow-origin cors-allow-methods cors-allow-headers ' +
    'cors-expose-headers cors-allow-credentials cors-max-age whitelist-source-range allowlist-source-range ' +
    'denylist-source-range permanent-redirect permanent-redirect-code temporal-redirect temporal-redirect-code ' +
    'server-alias default-backend custom-http-errors upstream-vhost x-forwarded-prefix').split(' '),
);

/** nginx sizes: `1000`, `8k`, `1m`, `1g` (case-insensitive, powers of 1024). */
export function parseSize(v: string): number {
  const m = /^(\d+)([bkmg]?)$/i.exec(v.trim());
  if (!m) return NaN;
  const mult = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'b' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}

function numeric(v: string | undefined): number | undefined {
  return v === undefined ? undefined : Number(v);
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

function parseOrigins(v: string | undefined): string[] {
  if (v === undefined) return [...CORS_DEFAULTS.allowOrigin];
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  return list.includes('*') || list.length === 0 ? ['*'] : list;
}

/** Comma-separated IPv4 addresses and CIDRs → CIDRs, or the reason one is invalid. */
function parseRanges(v: string): string[] | string {
  const out: string[] = [];
  for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?$/.exec(part);
    if (!m || m[1]!.split('.').some((o) => Number(o) > 255) || (m[2] !== undefined && Number(m[2]) > 32)) {
      return `the annotation does not contain a valid IP address or network: ${part}`;
    }
    out.push(m[2] === undefined ? `${m[1]}/32` : part);
  }
  if (out.length === 0) return 'the annotation does not contain a valid IP address or network';
  return out;
}

function assertUrl(name: string, v: string): void {
  if (/[\r\n]/.test(v)) throw new Invalid(`annotation ${ANNOTATION_PREFIX}${name} contains a line break`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new Invalid(`annotation ${ANNOTATION_PREFIX}${name}: ${v} is not a valid URL`);
  }
  if (!u.protocol || !u.host) throw new Invalid(`annotation ${ANNOTATION_PREFIX}${name}: ${v} needs a scheme and a host`);
}
