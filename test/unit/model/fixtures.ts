/** The YAML fixtures of the model tests, parsed (multi-document). */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

export interface FixtureDoc {
  file: string;
  index: number;
  object: Record<string, unknown>;
}

/** Every document of every .yaml file under fixtures/<sub>. */
export function fixtureDocs(sub: string): FixtureDoc[] {
  const base = path.join(dir, sub);
  const out: FixtureDoc[] = [];
  for (const file of readdirSync(base).filter((f) => f.endsWith('.yaml')).sort()) {
    parseAllDocuments(readFileSync(path.join(base, file), 'utf8')).forEach((doc, index) => {
      if (doc.errors.length) throw new Error(`${file}#${index}: ${doc.errors[0].message}`);
      const object = doc.toJSON() as Record<string, unknown> | null;
      if (object) out.push({ file, index, object });
    });
  }
  return out;
}
