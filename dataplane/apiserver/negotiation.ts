/**
 * Content negotiation as the apiserver does it for JSON (k8s.io/apiserver/pkg/endpoints/handlers/
 * negotiation): the Accept header's media types in order, with the parameters that pick a
 * different shape of the same answer — `as=Table` (server-side printing), `as=PartialObjectMetadata`
 * (metadata only), `as=APIGroupDiscoveryList` (aggregated discovery, v2 or v2beta1).
 *
 * knet answers in JSON only. A client that asks for protobuf (kubectl does, for some calls) and
 * also accepts JSON gets JSON; one that accepts only protobuf gets JSON too rather than a 406,
 * because kubectl treats a 406 on discovery as fatal (see the reference notes).
 */

export interface MediaType {
  type: string;
  params: Record<string, string>;
}

export function parseAccept(header: string | undefined): MediaType[] {
  if (!header) return [];
  return header
    .split(',')
    .map((part) => {
      const [type = '', ...params] = part.split(';').map((s) => s.trim());
      const p: Record<string, string> = {};
      for (const kv of params) {
        const eq = kv.indexOf('=');
        if (eq > 0) p[kv.slice(0, eq).trim().toLowerCase()] = kv.slice(eq + 1).trim();
      }
      return { type: type.toLowerCase(), params: p };
    })
    .filter((m) => m.type !== '');
}

export type Shape =
  | { as: 'object' }
  | { as: 'Table'; contentType: string }
  | { as: 'PartialObjectMetadata'; contentType: string }
  | { as: 'APIGroupDiscoveryList'; version: 'v2' | 'v2beta1'; contentType: string };

const JSON_TYPES = new Set(['application/json', '*/*', 'application/*']);

/** The first acceptable shape for a resource response (object, list, or watch event objects). */
export function resourceShape(accept: string | undefined): Shape {
  for (const m of parseAccept(accept)) {
    if (m.type !== 'application/json') {
      if (JSON_TYPES.has(m.type)) return { as: 'object' };
      continue;
    }
    const { as, g, v } = m.params;
    if (!as) return { as: 'object' };
    if (g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) continue;
    if (as === 'Table') return { as: 'Table', contentType: `application/json;as=Table;v=${v};g=meta.k8s.io` };
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return { as: 'PartialObjectMetadata', contentType: `application/json;as=${as};v=${v};g=meta.k8s.io` };
  }
  return { as: 'object' };
}

/** Aggregated discovery when asked for (v2 first, as client-go prefers it), else the legacy documents. */
export function discoveryShape(accept: string | undefined): Shape {
  for (const m of parseAccept(accept)) {
    if (m.type === 'application/json' && m.params.as === 'APIGroupDiscoveryList' && m.params.g === 'apidiscovery.k8s.io' && (m.params.v === 'v2' || m.params.v === 'v2beta1')) {
      return { as: 'APIGroupDiscoveryList', version: m.params.v, contentType: `application/json;g=apidiscovery.k8s.io;v=${m.params.v};as=APIGroupDiscoveryList` };
    }
    if (m.type === 'application/json' && !m.params.as) return { as: 'object' };
    if (JSON_TYPES.has(m.type) && m.type !== 'application/json') return { as: 'object' };
  }
  return { as: 'object' };
}
