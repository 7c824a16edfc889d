/**
 * The two ways the UDP and TCP fast paths (dns/udp-fast-path.ts, dataplane/base/net/tcp-fast-path.ts) reach
 * Node's internals, each feature-checked by its caller, which falls back to the public API
 * when what it finds does not have the expected shape.
 */

/**
 * `process.binding(name)`, or undefined when this Node has none. Deprecated (DEP0111), but
 * for the bindings on its allow list (udp_wrap, stream_wrap, tcp_wrap) it still answers,
 * without a warning, on Node 20, 22 and 24; http_parser answers on 20 and 22 only.
 */
export function nodeBinding(name: string): Record<string, unknown> | undefined {
  try {
    const binding = (process as unknown as { binding?: (name: string) => unknown }).binding;
    const b = binding?.(name);
    return typeof b === 'object' && b !== null ? (b as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The symbol-keyed own property of `obj` whose symbol has this description (Node's lib keeps state there). */
export function ownSymbol(obj: object, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(obj).find((sym) => sym.description === description);
}
