/**
 * decodeProtobufBody against upstream's round-trip fixtures (every field of the kind set, in
 * both encodings) and against malformed bodies.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeProtobufBody, ProtobufDecodeError, PROTOBUF_PREFIX } from '../../../dataplane/apiserver/protobuf/decode-protobuf.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const withoutNulls = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(withoutNulls) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)])) : v;

describe('decodeProtobufBody', () => {
  for (const name of ['core.v1.ConfigMap', 'core.v1.Secret', 'core.v1.Service', 'core.v1.Event', 'core.v1.Pod', 'apps.v1.Deployment', 'networking.k8s.io.v1.IngressClass', 'batch.v1.Job', 'batch.v1.CronJob']) {
    it(`decodes upstream's ${name} fixture to its JSON form`, () => {
      const decoded = decodeProtobufBody(readFileSync(path.join(dir, `${name}.pb`)));
      expect(withoutNulls(decoded)).toEqual(withoutNulls(JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8'))));
    });
  }

  it('rejects a body without the k8s prefix, a truncated one and an unknown kind with 400 errors', () => {
    const fails = (buf: Buffer) => () => decodeProtobufBody(buf);
    expect(fails(Buffer.from('{"kind":"Pod"}'))).toThrow('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
    const pod = readFileSync(path.join(dir, 'core.v1.Pod.pb'));
    expect(fails(pod.subarray(0, pod.length - 7))).toThrow(ProtobufDecodeError);
    // runtime.Unknown{typeMeta{apiVersion "node.k8s.io/v1", kind "RuntimeClass"}} (a kind knet does not serve)
    const typeMeta = Buffer.concat([Buffer.from([0x0a, 14]), Buffer.from('node.k8s.io/v1'), Buffer.from([0x12, 12]), Buffer.from('RuntimeClass')]);
    const job = Buffer.concat([PROTOBUF_PREFIX, Buffer.from([0x0a, typeMeta.length]), typeMeta]);
    expect(fails(job)).toThrow('no kind "RuntimeClass" is registered for version "node.k8s.io/v1"');
    expect(new ProtobufDecodeError('x').code).toBe(400);
  });
});
