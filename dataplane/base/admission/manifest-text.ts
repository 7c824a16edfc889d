/**
 * The bytes of a manifest as YAML reads them, and the errors that quote them. YAML is UTF-8
 * text without control characters; like kubectl's YAML reader (go-yaml), bytes that are not
 * are refused before parsing — "invalid leading UTF-8 octet", "control characters are not
 * allowed" — with where they are. Any quote of the input in an error is a short excerpt with
 * everything but printable ASCII escaped, so a binary file piped to `knet apply -f -` gets a
 * one-line error, not its bytes echoed to the terminal.
 */

export interface TextProblem {
  /** 1-based. */
  line: number;
  column: number;
  problem: string;
  /** The input at the problem, escaped and short. */
  near: string;
}

const EXCERPT_BYTES = 16;

/** The manifest's text, or where and why its bytes are not UTF-8. A leading byte order mark is dropped. */
export function decodeUtf8(bytes: Uint8Array): { text: string } | { error: TextProblem } {
  const bad = invalidUtf8(bytes);
  if (bad) {
    const more = bytes.length > bad.offset + EXCERPT_BYTES;
    return { error: { ...bytePosition(bytes, bad.offset), problem: bad.problem, near: escapeBytes(bytes.subarray(bad.offset, bad.offset + EXCERPT_BYTES), more) } };
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return { text: text.startsWith('\uFEFF') ? text.slice(1) : text };
}

/** Where the text has a character YAML does not allow, if anywhere. */
export function controlCharacterProblem(text: string): TextProblem | undefined {
  const at = firstControlCharacter(text);
  if (at === undefined) return undefined;
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column, problem: 'control characters are not allowed', near: excerpt(text.slice(at), EXCERPT_BYTES) };
}

/** The first byte sequence that is not UTF-8 (RFC 3629: no overlongs, surrogates or code points past U+10FFFF). */
function invalidUtf8(b: Uint8Array): { offset: number; problem: string } | undefined {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const width = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (width === 0) return { offset: i, problem: 'invalid leading UTF-8 octet' };
    if (i + width > b.length) return { offset: i, problem: 'incomplete UTF-8 octet sequence' };
    // The second byte's range is narrower after E0, ED, F0 and F4.
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k < width; k++) {
      const t = b[i + k]!;
      if (k === 1 ? t < lo || t > hi : t < 0x80 || t > 0xbf) return { offset: i, problem: 'invalid trailing UTF-8 octet' };
    }
    i += width;
  }
  return undefined;
}

/** YAML's printable set (tab, LF, CR, NEL and the printable planes); the index of the first character outside it. */
function firstControlCharacter(text: string): number | undefined {
  const m = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\ufffe\uffff]/.exec(text);
  return m?.index;
}

function bytePosition(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

function escapeBytes(bytes: Uint8Array, more: boolean): string {
  let out = '';
  for (const c of bytes) out += c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c ? String.fromCharCode(c) : c === 0x22 ? '\\"' : c === 0x5c ? '\\\\' : `\\x${c.toString(16).padStart(2, '0')}`;
  return `"${out}"${more ? '…' : ''}`;
}

/** A quote of `text`: at most `max` characters, everything but printable ASCII escaped. */
export function excerpt(text: string, max: number): string {
  let out = '';
  const chars = [...text];
  for (const ch of chars.slice(0, max)) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x20 && c < 0x7f && ch !== '"' && ch !== '\\') out += ch;
    else if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else out += c > 0xffff ? `\\U${c.toString(16).padStart(8, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return `"${out}"${chars.length > max ? '…' : ''}`;
}

/**
 * A YAML parser's error message, made safe to print: its location first, then its first line
 * without the location, every quoted part of the input cut to a short escaped excerpt and the
 * rest escaped too (the parser quotes whatever it choked on, which can be a whole line).
 */
export function describeYamlError(message: string, linePos?: { line: number; col: number }): string {
  let first = message.split('\n')[0] ?? '';
  first = first.replace(/ at line \d+, column \d+:?$/, '');
  const quoted = first.replace(/"((?:[^"\\]|\\.)*)"/g, (_m, inner: string) => excerpt(unquote(inner), 40));
  const safe = [...quoted].map((ch) => (/[\x20-\x7e…]/.test(ch) ? ch : excerpt(ch, 1).slice(1, -1))).join('');
  const capped = safe.length > 200 ? `${safe.slice(0, 200)}…` : safe;
  return linePos ? `line ${linePos.line}, column ${linePos.col}: ${capped}` : capped;
}

/** The parser quotes input as a JSON string; its text, or the raw inside when it is not one. */
function unquote(inner: string): string {
  try {
    return JSON.parse(`"${inner}"`) as string;
  } catch {
    return inner;
  }
}

/** A TextProblem as the reason of a ManifestError. */
export function describeTextProblem(p: TextProblem): string {
  return `line ${p.line}, column ${p.column}: ${p.problem} near ${p.near}`;
}
