/**
 * The cluster's service-account signing key, where kubeadm keeps it: `sa.key` (private, PKCS#8
 * PEM) and `sa.pub` (SubjectPublicKeyInfo PEM) in the PKI dir, both 0600. Made once, at the
 * cluster's first start, and kept: tokens handed out stay valid across restarts.
 *
 * Several processes may ask for it at once (the apiserver, node agents): the first to link its
 * file in place wins (link(2) fails when the name exists), the others read the winner's, so a
 * cluster never has two keys.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { keyIdOf } from './jwt.js';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The JWT `kid` (jwt.ts keyIdOf). */
  keyId: string;
}

export const SA_KEY_FILE = 'sa.key';
export const SA_PUB_FILE = 'sa.pub';

/** The key in `pkiDir`, created when missing. */
export function ensureSigningKey(pkiDir: string): SigningKey {
  const keyFile = path.join(pkiDir, SA_KEY_FILE);
  if (!existsSync(keyFile)) {
    mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    linkInPlace(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  }
  const key = loadSigningKey(pkiDir);
  if (!key) throw new Error(`the service-account signing key ${keyFile} cannot be read`);
  const pubFile = path.join(pkiDir, SA_PUB_FILE);
  if (!existsSync(pubFile)) linkInPlace(pubFile, key.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  return key;
}

/** The key in `pkiDir`, or undefined when there is none (yet) or it cannot be read. */
export function loadSigningKey(pkiDir: string): SigningKey | undefined {
  let pem: string;
  try {
    pem = readFileSync(path.join(pkiDir, SA_KEY_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const privateKey = createPrivateKey(pem);
    const publicKey = createPublicKey(privateKey);
    return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
  } catch {
    return undefined;
  }
}

/** Writes `content` to `file` (0600) unless it exists; a concurrent writer's file wins. */
function linkInPlace(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
}
