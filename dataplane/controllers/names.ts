/**
 * Names controllers give objects, as Kubernetes forms them:
 *  - generateName suffixes: 5 characters from an alphabet without vowels or look-alikes
 *    (k8s.io/apimachinery/pkg/util/rand), e.g. web-7d4b9c6f5-x2k8q;
 *  - pod-template-hash / controller-revision-hash: FNV-1a 32 of the template (plus the
 *    collision count), its decimal digits mapped onto the same alphabet (rand.SafeEncodeString),
 *    so the hash is stable across restarts and processes.
 */
import { randomInt } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(length = 5): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHANUMS[randomInt(ALPHANUMS.length)];
  return s;
}

/** `${base}-${random}`, with base shortened so the name stays within 63 characters. */
export function generateName(base: string): string {
  const prefix = base.length > 57 ? base.slice(0, 57) : base;
  return `${prefix}-${randomSuffix()}`;
}

export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += ALPHANUMS[s.charCodeAt(i) % ALPHANUMS.length];
  return out;
}

export function fnv32a(data: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(data, 'utf8');
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The hash of a pod template; `collisionCount` perturbs it as Kubernetes' ComputeHash does. */
export function templateHash(template: unknown, collisionCount?: number): string {
  let input = canonicalJson(template);
  if (collisionCount) input += `#${collisionCount}`;
  return safeEncode(String(fnv32a(input)));
}
