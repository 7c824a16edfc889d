/**
 * Path matching, as Ingress v1 defines it (Exact, Prefix) and as ingress-nginx implements
 * ImplementationSpecific (a Prefix) and regex mode (`~* "^path"`).
 *
 * The request path handed in here is already normalized (see request-uri.ts): decoded,
 * dot segments resolved, slashes merged — nginx matches locations against that form too.
 */

export type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

/** Exact: the whole path, case-sensitive. `/foo` does not match `/foo/` and vice versa. */
export function matchesExact(path: string, requestPath: string): boolean {
  return path === requestPath;
}

/**
 * Prefix: element-wise on `/`, case-sensitive. A trailing slash on either side is ignored,
 * and a partial last element does not match: `/foo` matches `/foo`, `/foo/`, `/foo/bar`
 * but not `/foobar`; `/aaa/bbb/` matches `/aaa/bbb`.
 */
export function matchesPrefix(prefix: string, requestPath: string): boolean {
  const p = trimTrailingSlashes(prefix);
  if (p === '') return true; // "/" (or "") matches every path
  const r = requestPath;
  if (!r.startsWith(p)) return false;
  return r.length === p.length || r.charCodeAt(p.length) === 47 /* '/' */;
}

/** `/foo///` → `/foo`, `/` → `` (so the root prefix has no elements). */
export function trimTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47) end--;
  return path.slice(0, end);
}

/** How long a path is for "longest match wins": its elements, not its trailing slash. */
export function matchLength(path: string, pathType: PathType): number {
  return pathType === 'Exact' ? path.length : trimTrailingSlashes(path).length;
}

/**
 * ingress-nginx regex mode: a location becomes `~* "^<path>"` — case-insensitive,
 * anchored at the start only. Returns undefined for a path JavaScript cannot compile
 * (PCRE-only syntax); such a location then never matches and the table reports why.
 */
export function compilePathRegex(path: string): RegExp | undefined {
  try {
    return new RegExp('^' + pcreToJs(path), 'i');
  } catch {
    return undefined;
  }
}

/**
 * The few PCRE spellings people put in Ingress paths that JavaScript spells differently:
 * named groups `(?P<name>…)` and possessive/atomic forms are not supported by JS at all;
 * we translate the first and leave the rest to fail compilation.
 */
function pcreToJs(pattern: string): string {
  return pattern.replace(/\(\?P</g, '(?<');
}

/** One candidate location, as the route table stores it. */
export interface PathCandidate {
  path: string;
  pathType: PathType;
  /** Set when the host is in regex mode; compiled from `path`. */
  regex?: RegExp;
}

/** Does this candidate match the (normalized) request path? */
export function matchesPath(c: PathCandidate, requestPath: string, regexMode: boolean): boolean {
  if (regexMode) return c.regex !== undefined && c.regex.test(requestPath);
  if (c.pathType === 'Exact') return matchesExact(c.path, requestPath);
  return matchesPrefix(c.path, requestPath);
}

/**
 * Orders a host's locations the way they will be tried.
 *  - Spec mode: longest match first; on a tie Exact before Prefix; then input order
 *    (oldest Ingress first), which is how ingress-nginx keeps the oldest of duplicates.
 *  - Regex mode (ingress-nginx): path string length descending, ties by the path string
 *    descending (two stable sorts in controller.go), then first match wins.
 */
export function orderLocations<T extends PathCandidate>(locations: readonly T[], regexMode: boolean): T[] {
  const indexed = locations.map((loc, i) => ({ loc, i }));
  if (regexMode) {
    indexed.sort((a, b) => {
      if (a.loc.path.length !== b.loc.path.length) return b.loc.path.length - a.loc.path.length;
      if (a.loc.path !== b.loc.path) return a.loc.path > b.loc.path ? -1 : 1;
      return a.i - b.i;
    });
  } else {
    indexed.sort((a, b) => {
      const la = matchLength(a.loc.path, a.loc.pathType);
      const lb = matchLength(b.loc.path, b.loc.pathType);
      if (la !== lb) return lb - la;
      const ea = a.loc.pathType === 'Exact' ? 0 : 1;
      const eb = b.loc.pathType === 'Exact' ? 0 : 1;
      if (ea !== eb) return ea - eb;
      return a.i - b.i;
    });
  }
  return indexed.map((x) => x.loc);
}

/**
 * The location a request path selects from an already ordered list (orderLocations):
 * the first that matches. Longest-first ordering makes "first" mean "longest".
 */
export function selectLocation<T extends PathCandidate>(ordered: readonly T[], requestPath: string, regexMode: boolean): T | undefined {
  for (const loc of ordered) {
    if (matchesPath(loc, requestPath, regexMode)) return loc;
  }
  return undefined;
}

/**
 * ingress-nginx's strict-validate-path-type (default on): Exact and Prefix paths may use
 * only `[A-Za-z0-9_/-]`. Without the admission webhook a violation is only a warning;
 * we report it the same way.
 */
export function pathTypeWarning(path: string, pathType: PathType): string | undefined {
  if (pathType === 'ImplementationSpecific') return undefined;
  if (/^[A-Za-z0-9_/\-]*$/.test(path)) return undefined;
  return `path ${path} cannot be used with pathType ${pathType} (only A-Z a-z 0-9 _ / - are allowed; use ImplementationSpecific for regex paths)`;
}
