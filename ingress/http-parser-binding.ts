/**
 * Node's HTTP parser binding (llhttp; lib/_http_common.js and _http_server.js use the same),
 * as http1-server.ts uses it: the shape it expects, checked once, and `available()` for the
 * ingress to fall back to node:http when this Node's binding differs.
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import { nodeBinding, ownSymbol } from '../dataplane/base/net/node-internals.js';

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
  if (parserBinding === undefined) parserBinding = (fromProcessBinding() ?? fromHttpModules()) ?? null;
  return parserBinding ?? undefined;
}

/** The shape http1-server.ts needs, checked once on whatever source found it. */
function usable(b: Partial<ParserBinding> | undefined): b is ParserBinding {
  const P = b?.HTTPParser;
  return (
    typeof P === 'function' &&
    typeof b?.ConnectionsList === 'function' &&
    typeof b.ConnectionsList.prototype.active === 'function' &&
    Array.isArray(b.allMethods) &&
    typeof P.REQUEST === 'number' &&
    typeof P.kOnExecute === 'number' &&
    typeof P.prototype.consume === 'function'
  );
}

/** Node 20 and 22: `process.binding('http_parser')`, the binding node:http itself uses. */
function fromProcessBinding(): ParserBinding | undefined {
  // process.binding warns once (DEP0111); node:http reaches the same binding internally, and
  // the warning would only alarm the ingress's users.
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  try {
    const b = nodeBinding('http_parser') as Partial<ParserBinding> | undefined;
    return usable(b) ? b : undefined;
  } finally {
    process.noDeprecation = quiet;
  }
}

/**
 * Node 24 and later no longer expose that binding to process.binding; the same classes are
 * reachable through node:http's own modules: `_http_common` exports HTTPParser and the method
 * names, and every http.Server keeps a ConnectionsList once it is listening (a throwaway
 * server is told it listens, without a socket, to make one; its sweep timer is cleared).
 */
export function fromHttpModules(): ParserBinding | undefined {
  try {
    const common = createRequire(import.meta.url)('_http_common') as { HTTPParser?: ParserBinding['HTTPParser']; methods?: string[] };
    const probe = http.createServer();
    probe.emit('listening');
    const connections = ownSymbol(probe, 'http.server.connections');
    const sweep = ownSymbol(probe, 'http.server.connectionsCheckingInterval');
    const probeFields = probe as unknown as Record<symbol, unknown>;
    if (sweep) clearInterval(probeFields[sweep] as NodeJS.Timeout);
    const list = connections ? (probeFields[connections] as { constructor?: unknown } | undefined) : undefined;
    const allMethods = common.methods ? llhttpMethodsByNumber(common.methods) : undefined;
    const b: Partial<ParserBinding> = { HTTPParser: common.HTTPParser, ConnectionsList: list?.constructor as ParserBinding['ConnectionsList'], allMethods };
    return usable(b) ? b : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The parser reports a request's method as llhttp's method number, an index into the
 * binding's `allMethods`. `_http_common` exports only `methods`, the HTTP ones, in the same
 * order but without llhttp's RTSP block (numbers 34–45: PRI … FLUSH), which an HTTP request
 * never carries; methods after it (QUERY = 46) are put back at their numbers.
 */
export function llhttpMethodsByNumber(methods: readonly string[]): string[] | undefined {
  const RTSP_FIRST = 34;
  const RTSP_BLOCK = ['PRI', 'DESCRIBE', 'ANNOUNCE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER', 'REDIRECT', 'RECORD', 'FLUSH'];
  // The numbering this relies on: DELETE is 0, GET 1, and SOURCE the last method before the block.
  if (methods[0] !== 'DELETE' || methods[1] !== 'GET' || methods[RTSP_FIRST - 1] !== 'SOURCE') return undefined;
  return [...methods.slice(0, RTSP_FIRST), ...RTSP_BLOCK, ...methods.slice(RTSP_FIRST)];
}

/** Whether this Node's http_parser binding can carry the server. */
export function available(): boolean {
  return binding() !== undefined;
}
