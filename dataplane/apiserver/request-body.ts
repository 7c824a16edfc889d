/**
 * A write's body and options as the apiserver decodes them: JSON or YAML (protobuf goes to its
 * decoder), the object's apiVersion/kind/namespace/name checked against the URL (missing ones
 * taken from it), and the query options every write shares — dryRun, fieldValidation,
 * fieldManager — with the apiserver's messages for bad values.
 */
import { parse as parseYaml } from 'yaml';
import type { ApiResource } from '../base/model/api-resources.js';
import type { KObject } from '../base/model/object.js';
import type { FieldValidation } from '../base/admission/writes.js';
import type { ApiRequest } from './api-request.js';
import { decodeProtobuf } from './patch-modules.js';
import { apiError, badRequest } from './status.js';
import { groupVersionOf } from './read.js';

/** The media type without parameters, lower-cased ("application/json"). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase() || 'application/json';
}

export function decodeBody(req: ApiRequest, r: ApiResource): unknown {
  const body = req.body;
  if (!body || body.length === 0) throw badRequest(`Object 'Kind' is missing in ''`);
  const type = mediaType(req.headers.contentType);
  switch (type) {
    case 'application/json':
    case '*/*':
      try {
        return JSON.parse(body.toString('utf8')) as unknown;
      } catch (err) {
        throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
      }
    case 'application/yaml':
    case 'application/x-yaml':
    case 'text/yaml':
      try {
        return parseYaml(body.toString('utf8')) as unknown;
      } catch (err) {
        throw badRequest(`couldn't get version/kind; yaml parse error: ${(err as Error).message}`);
      }
    case 'application/vnd.kubernetes.protobuf':
      return decodeProtobuf(body, r);
    default:
      throw apiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The body as an object of the URL's resource: apiVersion and kind filled in when missing and
 * checked when present, the namespace the URL's (or an error when the body names another), and
 * for an update the URL's name.
 */
export function objectFromBody(raw: unknown, r: ApiResource, namespace: string | undefined, urlName?: string): KObject {
  if (!isPlainObject(raw)) throw badRequest(`the body of the request must be a ${r.kind} object, not ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}`);
  const gv = groupVersionOf(r);
  const apiVersion = raw.apiVersion ?? gv;
  const kind = raw.kind ?? r.kind;
  if (apiVersion !== gv) throw badRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (${gv})`);
  if (kind !== r.kind) throw badRequest(`the kind in the data (${String(kind)}) does not match the expected kind (${r.kind})`);
  if (raw.metadata !== undefined && raw.metadata !== null && !isPlainObject(raw.metadata)) throw badRequest(`${r.kind} in version "${gv}" cannot be handled as a ${r.kind}: metadata must be an object`);
  const metadata: Record<string, unknown> = { ...(isPlainObject(raw.metadata) ? raw.metadata : {}) };
  if (r.namespaced) {
    const bodyNs = metadata.namespace;
    if (bodyNs !== undefined && bodyNs !== '' && bodyNs !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    metadata.namespace = namespace;
  } else {
    delete metadata.namespace;
  }
  if (urlName !== undefined && metadata.name !== urlName) {
    throw badRequest(`the name of the object (${String(metadata.name ?? '')}) does not match the name on the URL (${urlName})`);
  }
  return { ...raw, apiVersion: String(apiVersion), kind: String(kind), metadata } as KObject;
}

export interface WriteQuery {
  dryRun: boolean;
  fieldValidation: FieldValidation;
  fieldManager: string;
}

/** dryRun, fieldValidation and fieldManager of a create, update or patch (`what`: CreateOptions, …). */
export function writeQuery(req: ApiRequest, what: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions'): WriteQuery {
  const dry = req.query.getAll('dryRun').filter((v) => v !== '');
  for (const v of dry) {
    if (v !== 'All') throw invalidOptions(what, `dryRun: Unsupported value: ${JSON.stringify(v)}: supported values: "All"`);
  }
  const fv = req.query.get('fieldValidation') ?? '';
  if (!['', 'Ignore', 'Warn', 'Strict'].includes(fv)) throw badRequest(`fieldValidation: Invalid value: ${JSON.stringify(fv)}: fieldValidation must be one of "Ignore", "Strict", "Warn"`);
  let manager = req.query.get('fieldManager') ?? '';
  if (manager.length > 128) throw invalidOptions(what, `fieldManager: Too long: may not be more than 128 bytes`);
  // As the apiserver defaults it: the client's User-Agent up to its first "/".
  if (!manager) manager = (req.headers.userAgent ?? 'unknown').split('/')[0]!.slice(0, 128);
  return { dryRun: dry.length > 0, fieldValidation: (fv || 'Warn') as FieldValidation, fieldManager: manager };
}

function invalidOptions(what: string, line: string) {
  const [field] = line.split(':');
  return apiError('Invalid', `${what}.meta.k8s.io "" is invalid: ${line}`, { group: 'meta.k8s.io', kind: what, causes: [{ reason: 'FieldValueInvalid', message: line.slice(field!.length + 2), field }] });
}
