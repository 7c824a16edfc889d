/**
 * Request bodies in `application/vnd.kubernetes.protobuf` (what kubectl 1.32's typed clients
 * send for `create namespace|configmap|secret|deployment|service|…`), decoded with protobufjs
 * over descriptors generated from the upstream generated.proto files (descriptors.json,
 * scripts/gen-api-schema.mjs), into the object's JSON form:
 *
 *   "k8s\0" + runtime.Unknown{typeMeta{apiVersion, kind}, raw, contentEncoding, contentType}
 *   raw = the kind's message (k8s.io/api …/generated.proto)
 *
 * The JSON form differs from the message where Go's JSON does: a few fields are named
 * differently (IngressClass's `aPIGroup` is `apiGroup`), embedded structs are inlined
 * (a Volume's VolumeSource), zero scalars of omitempty fields are dropped (Go's protobuf
 * marshaller writes them, encoding/json does not), and Time, MicroTime, Quantity, IntOrString,
 * RawExtension and FieldsV1 have their own JSON.
 */
import protobuf from 'protobufjs';
import type { KObject } from '../../base/model/object.js';
import descriptors from './descriptors.json' with { type: 'json' };

interface FieldDescriptor {
  type: string;
  id: number;
  rule?: 'repeated';
  keyType?: string;
}
interface Descriptors {
  source: string;
  kinds: Record<string, string>;
  json: Record<string, { inline?: string[]; omitZero?: string[]; names?: Record<string, string> }>;
  messages: Record<string, { fields: Record<string, FieldDescriptor> }>;
}
const D = descriptors as Descriptors;

/** The magic prefix of Kubernetes protobuf bodies (apimachinery serializer/protobuf). */
export const PROTOBUF_PREFIX = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

/** A body that cannot be decoded: the apiserver answers 400 BadRequest. */
export class ProtobufDecodeError extends Error {
  readonly code = 400;
  readonly reason = 'BadRequest';
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufDecodeError';
  }
}

/** The descriptors as a protobufjs root (nested namespaces from the dotted full names). */
function buildRoot(): protobuf.Root {
  const nested: Record<string, unknown> = {};
  for (const [fullName, msg] of Object.entries(D.messages)) {
    const parts = fullName.split('.');
    const name = parts.pop()!;
    let ns = nested;
    for (const p of parts) {
      const next = ((ns[p] ??= { nested: {} }) as { nested: Record<string, unknown> }).nested;
      ns = next;
    }
    const fields = Object.fromEntries(Object.entries(msg.fields).map(([f, d]) => [f, { ...d, type: d.type.includes('.') ? `.${d.type}` : d.type, ...(d.rule === 'repeated' && !d.type.includes('.') ? { options: { packed: false } } : {}) }]));
    ns[name] = { fields };
  }
  return protobuf.Root.fromJSON({ nested } as protobuf.INamespace);
}

let root: protobuf.Root | undefined;
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, bytes: String, defaults: false, arrays: false, objects: false };

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
type Special = (v: Record<string, unknown>) => unknown;
const rfc3339 = (seconds: number, fraction = '') => new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, `${fraction}Z`);

/** Types with their own JSON form (their MarshalJSON); undefined means "leave the field out". */
const SPECIAL: Record<string, Special> = {
  [`${META}.Time`]: (v) => (v.seconds === undefined && v.nanos === undefined ? undefined : rfc3339(Number(v.seconds ?? 0))),
  [`${META}.MicroTime`]: (v) => (v.seconds === undefined && v.nanos === undefined ? undefined : rfc3339(Number(v.seconds ?? 0), `.${String(Math.floor(Number(v.nanos ?? 0) / 1000)).padStart(6, '0')}`)),
  [`${META}.Duration`]: (v) => v.duration ?? '0s',
  'k8s.io.apimachinery.pkg.api.resource.Quantity': (v) => v.string ?? '0',
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': (v) => (Number(v.type ?? 0) === 1 ? (v.strVal ?? '') : Number(v.intVal ?? 0)),
  'k8s.io.apimachinery.pkg.runtime.RawExtension': (v) => rawJson(v.raw),
  [`${META}.FieldsV1`]: (v) => rawJson(v.Raw),
  // `type ExtraValue []string`: a message of `items` on the wire, a list in JSON.
  'k8s.io.api.authentication.v1.ExtraValue': (v) => v.items ?? [],
};

function rawJson(b64: unknown): unknown {
  if (typeof b64 !== 'string' || b64 === '') return undefined;
  const text = Buffer.from(b64, 'base64').toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return b64;
  }
}

const isZero = (v: unknown) => v === '' || v === 0 || v === false;

/** A decoded message (protobufjs toObject) in its Kubernetes JSON form. */
function toJson(typeName: string, value: Record<string, unknown>): unknown {
  const special = SPECIAL[typeName];
  if (special) return special(value);
  const msg = D.messages[typeName];
  if (!msg) return value;
  const rules = D.json[typeName] ?? {};
  const out: Record<string, unknown> = {};
  for (const [name, d] of Object.entries(msg.fields)) {
    if (!(name in value)) continue;
    const conv = (x: unknown) => (D.messages[d.type] || SPECIAL[d.type] ? toJson(d.type, x as Record<string, unknown>) : x);
    let v: unknown;
    if (d.keyType) v = Object.fromEntries(Object.entries(value[name] as Record<string, unknown>).map(([k, x]) => [k, conv(x)]));
    else if (d.rule === 'repeated') v = (value[name] as unknown[]).map(conv);
    else v = conv(value[name]);
    if (v === undefined) continue;
    if (rules.inline?.includes(name)) Object.assign(out, v);
    else if (!(rules.omitZero?.includes(name) && isZero(v))) out[rules.names?.[name] ?? name] = v;
  }
  return out;
}

/** The object in a Kubernetes protobuf request body. Throws ProtobufDecodeError (400). */
export function decodeProtobufBody(buf: Buffer): KObject {
  if (buf.length < PROTOBUF_PREFIX.length || !buf.subarray(0, PROTOBUF_PREFIX.length).equals(PROTOBUF_PREFIX)) {
    throw new ProtobufDecodeError(`provided data does not appear to be a protobuf message, expected prefix [${[...PROTOBUF_PREFIX].join(' ')}]`);
  }
  root ??= buildRoot();
  let unknown: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array; contentEncoding?: string };
  try {
    unknown = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown').decode(buf.subarray(PROTOBUF_PREFIX.length)) as typeof unknown;
  } catch (err) {
    throw new ProtobufDecodeError(`invalid protobuf body: ${(err as Error).message}`);
  }
  const apiVersion = unknown.typeMeta?.apiVersion ?? '';
  const kind = unknown.typeMeta?.kind ?? '';
  if (unknown.contentEncoding) throw new ProtobufDecodeError(`unsupported content encoding "${unknown.contentEncoding}"`);
  const typeName = D.kinds[`${apiVersion}/${kind}`];
  if (!typeName) throw new ProtobufDecodeError(`no kind "${kind}" is registered for version "${apiVersion}"`);
  const type = root.lookupType(typeName);
  let message: protobuf.Message;
  try {
    message = type.decode(unknown.raw ?? new Uint8Array());
  } catch (err) {
    throw new ProtobufDecodeError(`invalid protobuf body for ${kind}: ${(err as Error).message}`);
  }
  const body = toJson(typeName, type.toObject(message, TO_OBJECT)) as Record<string, unknown>;
  return { apiVersion, kind, ...body } as KObject;
}
