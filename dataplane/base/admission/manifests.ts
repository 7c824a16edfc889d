/**
 * Reading manifests as kubectl does: YAML (multi-document) and JSON, from files, directories
 * (their .yaml/.yml/.json files, sorted) and stdin ("-"). `kind: List` is flattened. Every
 * document remembers where it came from so errors can name the file and document.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { AnyObject, KObject } from '../model/object.js';
import { controlCharacterProblem, decodeUtf8, describeTextProblem, describeYamlError } from './manifest-text.js';

export interface ManifestDoc {
  /** File path, or "<stdin>" / "<inline>". */
  source: string;
  /** 1-based document number within the source. */
  index: number;
  object: KObject;
  /**
   * Written as a plain create or update, not a `kubectl apply`: no last-applied-configuration
   * annotation (the objects kubeadm and the apiserver make: the built-in namespaces, the
   * `kubernetes` Service).
   */
  plain?: boolean;
}

export class ManifestError extends Error {
  constructor(
    readonly source: string,
    readonly index: number | undefined,
    reason: string,
  ) {
    super(`${source}${index !== undefined ? ` (document ${index})` : ''}: ${reason}`);
    this.name = 'ManifestError';
  }
}

export function readManifestPaths(paths: string[], stdin?: () => Uint8Array): ManifestDoc[] {
  const docs: ManifestDoc[] = [];
  for (const p of paths) {
    if (p === '-') {
      docs.push(...parseManifestBytes(stdin ? stdin() : readFileSync(0), '<stdin>'));
      continue;
    }
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new ManifestError(p, undefined, 'the path does not exist');
    }
    if (st.isDirectory()) {
      const files = readdirSync(p)
        .filter((f) => /\.(ya?ml|json)$/i.test(f))
        .sort();
      for (const f of files) docs.push(...parseManifestBytes(readFileSync(path.join(p, f)), path.join(p, f)));
    } else {
      docs.push(...parseManifestBytes(readFileSync(p), p));
    }
  }
  return docs;
}

/** A file's bytes: UTF-8 YAML or JSON, as kubectl reads them. */
export function parseManifestBytes(bytes: Uint8Array, source: string): ManifestDoc[] {
  const decoded = decodeUtf8(bytes);
  if ('error' in decoded) throw new ManifestError(source, undefined, `invalid YAML: ${describeTextProblem(decoded.error)}`);
  return parseManifestText(decoded.text, source);
}

export function parseManifestText(text: string, source: string): ManifestDoc[] {
  const control = controlCharacterProblem(text);
  if (control) throw new ManifestError(source, undefined, `invalid YAML: ${describeTextProblem(control)}`);
  const out: ManifestDoc[] = [];
  const parsed = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const documents = Array.isArray(parsed) ? parsed : [parsed];
  documents.forEach((doc, i) => {
    const index = i + 1;
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      throw new ManifestError(source, index, `invalid YAML: ${describeYamlError(e.message, e.linePos?.[0])}`);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // Resolving aliases fails only here, not in doc.errors: "*x" with no "&x", too many aliases.
      throw new ManifestError(source, index, `invalid YAML: ${describeYamlError((err as Error).message)}`);
    }
    if (value === null || value === undefined) return; // empty document, e.g. a trailing "---"
    for (const object of flatten(value, source, index)) out.push({ source, index, object });
  });
  return out;
}

function flatten(value: unknown, source: string, index: number): KObject[] {
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ManifestError(source, index, 'a manifest must be an object with apiVersion, kind and metadata');
  }
  const obj = value as AnyObject;
  if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
    return (obj.items as unknown[]).flatMap((item) => flatten(item, source, index));
  }
  return [obj];
}
