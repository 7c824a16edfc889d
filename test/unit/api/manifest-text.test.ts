/**
 * Manifest bytes as YAML reads them: UTF-8 without control characters, refused with where and a
 * short escaped excerpt otherwise; the YAML parser's own errors cut short and escaped. No input
 * gets echoed back: whatever bytes come in, an error is one short line of printable ASCII.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { controlCharacterProblem, decodeUtf8, describeYamlError, excerpt } from '../../../dataplane/base/admission/manifest-text.js';
import { ManifestError, parseManifestBytes } from '../../../dataplane/base/admission/manifests.js';

const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('decodeUtf8', () => {
  it('decodes UTF-8 and drops a byte order mark', () => {
    expect(decodeUtf8(bytes('kind: Pod # é 日本 🙂\n'))).toEqual({ text: 'kind: Pod # é 日本 🙂\n' });
    expect(decodeUtf8(bytes([0xef, 0xbb, 0xbf], 'kind: Pod\n'))).toEqual({ text: 'kind: Pod\n' });
  });

  // [what, bytes, line, column, problem, near]
  const rows: Array<[string, Buffer, number, number, string, string]> = [
    ['a stray continuation byte', bytes('a: b\nc: ', [0x80], 'd'), 2, 4, 'invalid leading UTF-8 octet', '"\\x80d"'],
    ['a byte never used in UTF-8', bytes('ab', [0xff, 0x13]), 1, 3, 'invalid leading UTF-8 octet', '"\\xff\\x13"'],
    ['an overlong two-byte form', bytes([0xc0, 0xaf]), 1, 1, 'invalid leading UTF-8 octet', '"\\xc0\\xaf"'],
    ['a sequence cut short at the end', bytes('x', [0xe6, 0x97]), 1, 2, 'incomplete UTF-8 octet sequence', '"\\xe6\\x97"'],
    ['a bad continuation', bytes([0xe6, 0x41, 0x41]), 1, 1, 'invalid trailing UTF-8 octet', '"\\xe6AA"'],
    ['a UTF-16 surrogate', bytes([0xed, 0xa0, 0x80]), 1, 1, 'invalid trailing UTF-8 octet', '"\\xed\\xa0\\x80"'],
    ['past U+10FFFF', bytes([0xf4, 0x90, 0x80, 0x80]), 1, 1, 'invalid trailing UTF-8 octet', '"\\xf4\\x90\\x80\\x80"'],
    ['quotes and backslashes escaped, 16 bytes at most', bytes([0xff], '"\\"0123456789abcdef'), 1, 1, 'invalid leading UTF-8 octet', '"\\xff\\"\\\\\\"0123456789ab"…'],
  ];
  it.each(rows)('%s', (_what, input, line, column, problem, near) => {
    expect(decodeUtf8(input)).toEqual({ error: { line, column, problem, near } });
  });
});

describe('controlCharacterProblem', () => {
  it("finds the first character YAML does not allow, as go-yaml's reader does", () => {
    expect(controlCharacterProblem('a: b\n\tc: "d"\r\n')).toBeUndefined();
    expect(controlCharacterProblem('a: b\nc: d\u0000e')).toEqual({ line: 2, column: 5, problem: 'control characters are not allowed', near: '"\\u0000e"' });
    expect(controlCharacterProblem('\u001b[31mred')).toMatchObject({ line: 1, column: 1, near: '"\\u001b[31mred"' });
  });
});

describe('describeYamlError', () => {
  it('puts the location first and cuts a quoted token to a short escaped excerpt', () => {
    const token = JSON.stringify(`\u00e9${'x'.repeat(5000)}`);
    expect(describeYamlError(`Unexpected scalar token in YAML stream: ${token} at line 22, column 1:\n\n${'x'.repeat(100)}\n^`, { line: 22, col: 1 })).toBe(
      `line 22, column 1: Unexpected scalar token in YAML stream: "\\u00e9${'x'.repeat(39)}"…`,
    );
  });

  it('escapes and caps an unquoted excerpt', () => {
    const message = describeYamlError(`Block scalar header includes extra characters: >W\u00ff${'q'.repeat(500)} at line 1, column 2:`);
    expect(message.startsWith('Block scalar header includes extra characters: >W\\u00ffqq')).toBe(true);
    expect(message.length).toBeLessThanOrEqual(201);
  });

  it('quotes with excerpt()', () => {
    expect(excerpt('ab\ncd', 3)).toBe('"ab\\n"…');
  });
});

describe('parseManifestBytes never echoes its input', () => {
  it('an alias with no anchor, or too many aliases, is invalid YAML like any other (fast-check found "*!")', () => {
    expect(() => parseManifestBytes(Buffer.from('*!'), '<stdin>')).toThrow(ManifestError);
    expect(() => parseManifestBytes(Buffer.from('*!'), '<stdin>')).toThrow(/invalid YAML: Unresolved alias/);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 6 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n');
    expect(() => parseManifestBytes(Buffer.from(bomb), '<stdin>')).toThrow(ManifestError);
  });

  it('gives at most one short printable line for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40_000 }), (input) => {
        try {
          parseManifestBytes(input, '<stdin>');
        } catch (err) {
          expect(err).toBeInstanceOf(ManifestError);
          const message = (err as Error).message;
          expect(message.length).toBeLessThan(320);
          expect(message).toMatch(/^[\x20-\x7e…]*$/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('so does text that is UTF-8 but not YAML', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 5_000 }), (text) => {
        try {
          parseManifestBytes(Buffer.from(text), '<stdin>');
        } catch (err) {
          if (!(err instanceof ManifestError)) throw err;
          expect(err.message.length).toBeLessThan(320);
          expect(err.message).toMatch(/^[\x20-\x7e…]*$/);
        }
      }),
      { numRuns: 300 },
    );
  });
});
