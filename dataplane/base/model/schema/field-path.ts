/**
 * Field paths as the apiserver prints them: `spec.ports[0].port`, `metadata.labels[app]`.
 * A JSON pointer ("/spec/ports/0/port") does not say whether "0" is an array index, a map key or
 * a field name; the field tree does.
 */
import { childRef, rootRef, shapeOf } from './known-fields.js';

/** Turn path steps (from a JSON pointer) into the apiserver's notation for `kind`. */
export function formatPath(kind: string, steps: readonly string[]): string {
  let ref = rootRef(kind);
  let out = '';
  for (const step of steps) {
    const shape = ref === undefined ? undefined : shapeOf(ref);
    if (shape === 'array' || shape === 'map' || (shape === undefined && /^\d+$/.test(step))) {
      out += `[${step}]`;
    } else {
      out += out === '' ? step : `.${step}`;
    }
    ref = ref === undefined ? undefined : childRef(ref, step);
  }
  return out;
}

/** Split an ajv instancePath ("/spec/ports/0/port") into unescaped steps. */
export function pointerSteps(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
