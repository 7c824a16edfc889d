/**
 * Should a request to a primary upstream go to its canary? ingress-nginx's
 * balancer.lua route_to_alternative_balancer, step for step:
 *   1. an affinity cookie for the primary keeps it on the primary;
 *   2. no canary, or a canary without endpoints → primary;
 *   3. an affinity cookie for the canary → canary;
 *   4. canary-by-header: with -value an exact match → canary (else fall through); with
 *      -pattern a match → canary; else "always" → canary, "never" → primary (final);
 *   5. canary-by-cookie: "always" → canary, "never" → primary;
 *   6. weight: canary when random(1..total) <= weight; total counts only above 100.
 */
import { isAffinitized, type BalancerState } from './balancer.js';
import { headerValue } from './nginx-variables.js';
import type { Upstream } from './route-table.js';

export interface CanaryRequest {
  headers: Readonly<Record<string, string | string[] | undefined>>;
  cookies: ReadonlyMap<string, string>;
}

export function routeToCanary(primary: Upstream, req: CanaryRequest, state: BalancerState): boolean {
  if (isAffinitized(primary, req.cookies)) return false;
  const alt = primary.alternative;
  if (!alt || alt.endpoints.length === 0) return false;
  if (isAffinitized(alt, req.cookies)) return true;
  const policy = alt.canary;
  if (!policy) return false;

  if (policy.header) {
    // nginx's $http_<name>: the header, case-insensitively; absent means "not set".
    const present = req.headers[policy.header.toLowerCase()] !== undefined;
    if (present) {
      const value = headerValue(req.headers, policy.header);
      if (policy.headerValue) {
        if (value === policy.headerValue) return true;
      } else if (policy.headerPattern) {
        if (safeTest(policy.headerPattern, value)) return true;
      } else if (value === 'always') {
        return true;
      } else if (value === 'never') {
        return false;
      }
    }
  }

  if (policy.cookie) {
    const value = req.cookies.get(policy.cookie);
    if (value === 'always') return true;
    if (value === 'never') return false;
  }

  const total = policy.weightTotal > 100 ? policy.weightTotal : 100;
  return state.randomInt(total) <= policy.weight;
}

const patterns = new Map<string, RegExp | null>();
function safeTest(pattern: string, value: string): boolean {
  let re = patterns.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern);
    } catch {
      re = null;
    }
    if (patterns.size > 1000) patterns.clear();
    patterns.set(pattern, re);
  }
  return re !== null && re.test(value);
}
