/**
 * Secret and ConfigMap validation (ValidateSecret, ValidateConfigMap): key syntax, size limits,
 * and the keys each well-known Secret type requires (kubernetes.io/tls needs tls.crt and tls.key).
 */
import type { ConfigMap, Secret } from 'kubernetes-types/core/v1.js';
import { child, invalid, key, required, tooLong, type FieldError } from './field-error.js';
import { isConfigMapKey, nameIsDNSSubdomain } from './formats.js';
import { validateObjectMeta } from './object-meta.js';

const MAX_SECRET_SIZE = 1024 * 1024;

const decodedLength = (b64: string): number => Buffer.from(b64, 'base64').length;

function validateKeys(data: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of Object.keys(data ?? {})) {
    for (const msg of isConfigMapKey(k)) errs.push(invalid(key(path, k), k, msg));
  }
  return errs;
}

/** Keys a Secret of each well-known type must carry in `data`. */
function validateSecretType(secret: Secret): FieldError[] {
  const data = secret.data ?? {};
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(data, k);
  const req = (k: string): FieldError => required(key('data', k));
  switch (secret.type ?? '') {
    case 'kubernetes.io/service-account-token':
      return secret.metadata?.annotations?.['kubernetes.io/service-account.name']
        ? []
        : [required('metadata.annotations[kubernetes.io/service-account.name]')];
    case 'kubernetes.io/dockercfg':
      return has('.dockercfg') ? [] : [req('.dockercfg')];
    case 'kubernetes.io/dockerconfigjson':
      return has('.dockerconfigjson') ? [] : [req('.dockerconfigjson')];
    case 'kubernetes.io/basic-auth':
      return has('username') || has('password') ? [] : [req('username'), req('password')];
    case 'kubernetes.io/ssh-auth':
      return (data['ssh-privatekey'] ?? '') !== '' ? [] : [req('ssh-privatekey')];
    case 'kubernetes.io/tls':
      return [...(has('tls.crt') ? [] : [req('tls.crt')]), ...(has('tls.key') ? [] : [req('tls.key')])];
    default:
      return [];
  }
}

export function validateSecret(secret: Secret): FieldError[] {
  const errs = validateObjectMeta(secret.metadata, true, nameIsDNSSubdomain);
  errs.push(...validateKeys(secret.data, 'data'));
  const total = Object.values(secret.data ?? {}).reduce((n, v) => n + decodedLength(v), 0);
  if (total > MAX_SECRET_SIZE) errs.push(tooLong('data', MAX_SECRET_SIZE));
  errs.push(...validateSecretType(secret));
  return errs;
}

export function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errs = validateObjectMeta(cm.metadata, true, nameIsDNSSubdomain);
  errs.push(...validateKeys(cm.data, 'data'));
  for (const k of Object.keys(cm.data ?? {})) {
    if (Object.prototype.hasOwnProperty.call(cm.binaryData ?? {}, k)) {
      errs.push(invalid(key('data', k), k, 'duplicate of key present in binaryData'));
    }
  }
  errs.push(...validateKeys(cm.binaryData, 'binaryData'));
  const total =
    Object.values(cm.data ?? {}).reduce((n, v) => n + Buffer.byteLength(v), 0) +
    Object.values(cm.binaryData ?? {}).reduce((n, v) => n + decodedLength(v), 0);
  // Upstream reports this against the whole object (an empty path).
  if (total > MAX_SECRET_SIZE) errs.push(tooLong(child(''), MAX_SECRET_SIZE));
  return errs;
}
