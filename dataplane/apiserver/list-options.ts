/**
 * The query of a list or watch (metav1.ListOptions): label and field selectors, limit and
 * continue, resourceVersion, timeoutSeconds, allowWatchBookmarks — parsed and checked, with the
 * apiserver's 400 messages, into a filter over cached objects.
 */
import type { KObject, Kind } from '../base/model/object.js';
import { matchesRequirements, parseSelector, SelectorParseError, type Requirement } from '../base/model/selector.js';
import { FieldSelectorError, matchesFields, parseFieldSelector, pinnedName, type FieldRequirement } from './field-selector.js';
import { apiError, badRequest } from './status.js';
import { parseBool } from './request-info.js';

export interface ListOptions {
  labels: Requirement[];
  fields: FieldRequirement[];
  /** metadata.name=X: at most one object can match. */
  name?: string;
  limit?: number;
  continue?: ContinueToken;
  resourceVersion?: string;
  timeoutSeconds?: number;
  allowWatchBookmarks: boolean;
  sendInitialEvents?: boolean;
}

export interface ContinueToken {
  rv: number;
  /** The key after which the next page starts. */
  start: string;
}

function int(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)}: must be an integer`);
  return Number(v);
}

export function parseListOptions(kind: Kind, query: URLSearchParams): ListOptions {
  let labels: Requirement[] = [];
  let fields: FieldRequirement[] = [];
  try {
    const l = query.get('labelSelector');
    if (l) labels = parseSelector(l);
  } catch (err) {
    if (err instanceof SelectorParseError) throw badRequest(`unable to parse requirement: ${err.message}`);
    throw err;
  }
  try {
    const f = query.get('fieldSelector');
    if (f) fields = parseFieldSelector(f, kind);
  } catch (err) {
    if (err instanceof FieldSelectorError) throw badRequest(err.message);
    throw err;
  }
  const limit = int(query, 'limit');
  const timeoutSeconds = int(query, 'timeoutSeconds');
  const cont = query.get('continue');
  return {
    labels,
    fields,
    name: pinnedName(fields),
    limit: limit !== undefined && limit > 0 ? limit : undefined,
    continue: cont ? decodeContinue(cont) : undefined,
    resourceVersion: query.get('resourceVersion') ?? undefined,
    timeoutSeconds: timeoutSeconds !== undefined && timeoutSeconds > 0 ? timeoutSeconds : undefined,
    allowWatchBookmarks: parseBool(query.get('allowWatchBookmarks')) === true,
    sendInitialEvents: parseBool(query.get('sendInitialEvents')),
  };
}

export function matches(kind: Kind, opts: ListOptions, o: KObject | undefined): boolean {
  if (!o) return false;
  if (opts.labels.length && !matchesRequirements(opts.labels, o.metadata?.labels as Record<string, string> | undefined)) return false;
  return matchesFields(kind, opts.fields, o);
}

/** The apiserver's continue token: base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"key\u0000"}. */
export function encodeContinue(rv: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` })).toString('base64url');
}

function decodeContinue(token: string): ContinueToken {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: unknown; rv?: unknown; start?: unknown };
    if (parsed.v !== 'meta.k8s.io/v1' || typeof parsed.rv !== 'number' || typeof parsed.start !== 'string' || parsed.rv < 0) throw new Error('bad token');
    return { rv: parsed.rv, start: parsed.start.replace(/\u0000$/, '') };
  } catch {
    throw apiError('BadRequest', 'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}
