/**
 * tar's member names as busybox's (and GNU's) tar writes them: an absolute path loses its
 * leading "/" ("tar: removing leading '/' from member names"), unless -P is given. just-bash's
 * tar keeps the "/", and kubectl cp — whose `kubectl cp pod:/tmp/f .` runs `tar cf - /tmp/f`
 * in the container — takes such an archive for a forged one ("tar contents corrupted"). So a
 * `tar c` whose operands are all absolute runs as `tar c … -C / tmp/f`. Pure.
 */

/** Options whose value is the next word (or the rest of a short-option cluster). */
const SHORT_WITH_VALUE = new Set(['f', 'C', 'T', 'X']);
const LONG_WITH_VALUE = new Set(['--file', '--directory', '--files-from', '--exclude-from', '--exclude']);

export function busyboxTarArgv(argv: string[]): { argv: string[]; note?: string } {
  if (!/^(\/usr)?(\/bin\/)?tar$/.test(argv[0] ?? '')) return { argv };
  let create = false;
  let keepsSlash = false;
  let hasDirectory = false;
  const operands: number[] = [];
  let pending = 0; // option values still to skip
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (pending > 0) {
      pending--;
      continue;
    }
    if (a.startsWith('--')) {
      const name = a.split('=')[0]!;
      if (name === '--create') create = true;
      if (name === '--absolute-names') keepsSlash = true;
      if (name === '--directory') hasDirectory = true;
      if (LONG_WITH_VALUE.has(name) && !a.includes('=')) pending = 1;
      continue;
    }
    // The first word may be an old-style bundle without a dash ("cf"): each value letter takes a word.
    const oldStyle = i === 1 && !a.startsWith('-');
    if (a.startsWith('-') && a.length > 1) {
      const letters = a.slice(1);
      for (let k = 0; k < letters.length; k++) {
        const l = letters[k]!;
        if (l === 'c') create = true;
        if (l === 'P') keepsSlash = true;
        if (l === 'C') hasDirectory = true;
        if (SHORT_WITH_VALUE.has(l)) {
          if (k === letters.length - 1) pending = 1;
          break;
        }
      }
    } else if (oldStyle) {
      for (const l of a) {
        if (l === 'c') create = true;
        if (l === 'P') keepsSlash = true;
        if (l === 'C') hasDirectory = true;
        if (SHORT_WITH_VALUE.has(l)) pending++;
      }
    } else operands.push(i);
  }
  if (!create || keepsSlash || hasDirectory || operands.length === 0) return { argv };
  if (!operands.every((i) => argv[i]!.startsWith('/'))) return { argv };
  const out = argv.map((a, i) => (operands.includes(i) ? a.replace(/^\/+/, '') || '.' : a));
  out.splice(operands[0]!, 0, '-C', '/');
  return { argv: out, note: "tar: removing leading '/' from member names\n" };
}
