/**
 * Writes a volume's files into a directory on disk the way the kubelet's AtomicWriter does
 * (`pkg/volume/util/atomic_writer.go`), so a program reading them never sees half an update:
 *
 *   <dir>/..2024_01_02_15_04_05.123456789/   the files of this version
 *   <dir>/..data -> ..2024_01_02_15_04_05.123456789
 *   <dir>/<name> -> ..data/<name>             one link per top-level name the user sees
 *
 * An update writes a new version directory, points `..data` at it with one rename (atomic),
 * fixes the user-visible links, then removes the old version. `ls -1L <dir>` lists the names;
 * a file opened before an update keeps reading the old version. Unchanged contents are not
 * rewritten.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface PayloadFile {
  /** Relative path in the volume, e.g. "config/app.yaml". */
  path: string;
  content: Buffer;
  mode: number;
}

const DATA = '..data';
const DATA_TMP = '..data_tmp';

/** Makes `dir` hold exactly `files`; false when they were there already (nothing written). */
export function writeAtomically(dir: string, files: readonly PayloadFile[]): boolean {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const checked = files.map((f) => ({ ...f, path: safeRelative(f.path) }));
  const current = currentVersion(dir);
  if (current && sameContents(path.join(dir, current), checked)) return false;

  const version = versionName(dir);
  const versionDir = path.join(dir, version);
  mkdirSync(versionDir, { mode: 0o755 });
  for (const f of checked) {
    const file = path.join(versionDir, f.path);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    writeFileSync(file, f.content, { mode: f.mode });
    // writeFileSync's mode is filtered by the umask; the volume's mode is what the user asked for.
    chmodSync(file, f.mode);
  }
  rmSync(path.join(dir, DATA_TMP), { force: true });
  symlinkSync(version, path.join(dir, DATA_TMP));
  renameSync(path.join(dir, DATA_TMP), path.join(dir, DATA));

  const visible = new Set(checked.map((f) => f.path.split('/')[0]!));
  for (const name of visible) {
    const link = path.join(dir, name);
    if (isLinkTo(link, `${DATA}/${name}`)) continue;
    rmSync(link, { recursive: true, force: true });
    symlinkSync(`${DATA}/${name}`, link);
  }
  for (const name of readdirSync(dir)) {
    if (name.startsWith('..') || visible.has(name)) continue;
    rmSync(path.join(dir, name), { recursive: true, force: true });
  }
  if (current) rmSync(path.join(dir, current), { recursive: true, force: true });
  return true;
}

/** A volume path must stay inside the volume (the API validates this too: no "..", not absolute). */
function safeRelative(p: string): string {
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.length === 0 || parts.some((s) => s === '..' || s.startsWith('..'))) throw new Error(`volume file path ${JSON.stringify(p)} must be relative and must not contain ".."`);
  return parts.join('/');
}

function currentVersion(dir: string): string | undefined {
  try {
    return readlinkSync(path.join(dir, DATA));
  } catch {
    return undefined;
  }
}

function sameContents(versionDir: string, files: readonly PayloadFile[]): boolean {
  const want = new Map(files.map((f) => [f.path, f]));
  const have = listFiles(versionDir);
  if (have.length !== want.size) return false;
  for (const rel of have) {
    const f = want.get(rel);
    if (!f) return false;
    const file = path.join(versionDir, rel);
    if ((statSync(file).mode & 0o7777) !== f.mode || !readFileSync(file).equals(f.content)) return false;
  }
  return true;
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(path.join(dir, e.name), rel));
    else out.push(rel);
  }
  return out;
}

function isLinkTo(link: string, target: string): boolean {
  try {
    return lstatSync(link).isSymbolicLink() && readlinkSync(link) === target;
  } catch {
    return false;
  }
}

/** `..2006_01_02_15_04_05.<digits>` (UTC), as the kubelet names a version, unique in `dir`. */
function versionName(dir: string): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}`;
  for (let i = 0; ; i++) {
    const name = `${stamp}.${p(d.getUTCMilliseconds(), 3)}${String(process.hrtime.bigint() % 1_000_000n).padStart(6, '0')}${i ? i : ''}`;
    try {
      lstatSync(path.join(dir, name));
    } catch {
      return name;
    }
  }
}
