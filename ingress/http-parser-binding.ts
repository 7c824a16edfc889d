/**
 * Node's HTTP parser binding (llhttp; lib/_http_common.js and _http_server.js use the same),
 * as http1-server.ts uses it: the shape it expects, checked once, and `available()` for the
 * ingress to fall back to node:http when this Node's binding differs.
 */
import { nodeBinding } from '../dataplane/net/node-internals.js';

export interface Parser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number, connections?: ConnectionsList): void;
  consume(handle: unknown): void;
  unconsume(): void;
  execute(data: Buffer): number | Error;
  finish(): number | Error | undefined;
  getCurrentBuffer(): Buffer;
  remove(): void;
  close(): void;
  [key: number]: unknown;
  /** The connection this parser reads for (http1-server.ts). */
  conn?: { timedOut(): void };
}
export interface ConnectionsList {
  expired(headersTimeout: number, requestTimeout: number): Parser[];
  /** Parsers inside a message (its first byte read, its end not yet). */
  active(): Parser[];
}
export interface ParserBinding {
  HTTPParser: (new () => Parser) & Record<string, number>;
  ConnectionsList: new () => ConnectionsList;
  allMethods: string[];
}

let parserBinding: ParserBinding | null | undefined;

export function binding(): ParserBinding | undefined {
  if (parserBinding === undefined) {
    parserBinding = null;
    // process.binding('http_parser') warns once (DEP0111); node:http reaches the same binding
    // internally, and the warning would only alarm the ingress's users.
    const quiet = process.noDeprecation;
    process.noDeprecation = true;
    try {
      const b = nodeBinding('http_parser') as Partial<ParserBinding> | undefined;
      const P = b?.HTTPParser;
      if (typeof P === 'function' && typeof b?.ConnectionsList === 'function' && typeof b.ConnectionsList.prototype.active === 'function' && Array.isArray(b.allMethods) && typeof P.REQUEST === 'number' && typeof P.kOnExecute === 'number' && typeof P.prototype.consume === 'function') {
        parserBinding = b as ParserBinding;
      }
    } finally {
      process.noDeprecation = quiet;
    }
  }
  return parserBinding ?? undefined;
}

/** Whether this Node's http_parser binding can carry the server. */
export function available(): boolean {
  return binding() !== undefined;
}
