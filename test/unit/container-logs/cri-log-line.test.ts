/**
 * The CRI log line format: what containerd writes and the kubelet reads, times to the
 * nanosecond, full lines and pieces; no input crashes the parser.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeLogLine, formatLogTime, parseLogLine, parseLogTime } from '../../../dataplane/base/container-logs/cri-log-line.js';

const T = 1_475_713_029_669_794_202n; // 2016-10-06T00:17:09.669794202Z

describe('times', () => {
  it.each([
    ['2016-10-06T00:17:09.669794202Z', T],
    ['2016-10-06T00:17:09.6697942Z', T - 2n],
    ['2016-10-06T00:17:09Z', T - 669_794_202n],
    ['2016-10-06T02:17:09.669794202+02:00', T],
    ['2016-10-05T23:17:09.669794202-01:00', T],
  ])('parses %s', (text, ns) => expect(parseLogTime(text)).toBe(ns));

  it.each(['', '2016-10-06', '2016-10-06T00:17:09', '2016-10-06T00:17:09.1234567890Z', 'yesterday'])('refuses %j', (text) => expect(parseLogTime(text)).toBeUndefined());

  it('writes nanoseconds as Go does: trailing zeros dropped (RFC3339Nano), or always nine digits (the kubelet\'s output)', () => {
    expect(formatLogTime(T, false)).toBe('2016-10-06T00:17:09.669794202Z');
    expect(formatLogTime(T - 2n, false)).toBe('2016-10-06T00:17:09.6697942Z');
    expect(formatLogTime(T - 669_794_202n, false)).toBe('2016-10-06T00:17:09Z');
    expect(formatLogTime(T - 669_794_202n, true)).toBe('2016-10-06T00:17:09.000000000Z');
    expect(formatLogTime(T - 2n, true)).toBe('2016-10-06T00:17:09.669794200Z');
  });

  it('round-trips any time', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 4_102_444_800_000_000_000n }), (ns) => {
      expect(parseLogTime(formatLogTime(ns, false))).toBe(ns);
      expect(parseLogTime(formatLogTime(ns, true))).toBe(ns);
    }));
  });
});

describe('lines', () => {
  it('encodes full lines and pieces as containerd does', () => {
    expect(encodeLogLine(T, 'stdout', false, Buffer.from('log content 1')).toString()).toBe('2016-10-06T00:17:09.669794202Z stdout F log content 1\n');
    expect(encodeLogLine(T, 'stderr', true, Buffer.from('piece')).toString()).toBe('2016-10-06T00:17:09.669794202Z stderr P piece\n');
  });

  it('reads a full line with its newline and a piece without, so pieces join up', () => {
    const full = parseLogLine(Buffer.from('2016-10-06T00:17:09.669794202Z stdout F log content 1\n'));
    expect(full).toMatchObject({ time: T, stream: 'stdout', partial: false });
    expect(full!.content.toString()).toBe('log content 1\n');
    const piece = parseLogLine(Buffer.from('2016-10-06T00:17:09.669794203Z stderr P log content 2\n'));
    expect(piece).toMatchObject({ stream: 'stderr', partial: true });
    expect(piece!.content.toString()).toBe('log content 2');
    expect(parseLogLine(Buffer.from('2016-10-06T00:17:09Z stdout F \n'))!.content.toString()).toBe('\n');
    // Later tags after ':' are accepted (forward compatible), as the kubelet does.
    expect(parseLogLine(Buffer.from('2016-10-06T00:17:09Z stdout F:x hi\n'))!.content.toString()).toBe('hi\n');
  });

  it.each(['', 'hello', '2016-10-06T00:17:09Z', '2016-10-06T00:17:09Z stdin F x', '2016-10-06T00:17:09Z stdout', 'not-a-time stdout F x'])('skips %j', (line) => expect(parseLogLine(Buffer.from(line))).toBeUndefined());

  it('never throws and reads back what it wrote', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => void parseLogLine(Buffer.from(bytes))));
    fc.assert(
      fc.property(fc.string().filter((s) => !s.includes('\n')), fc.constantFrom('stdout' as const, 'stderr' as const), fc.boolean(), (text, stream, partial) => {
        const m = parseLogLine(encodeLogLine(T, stream, partial, Buffer.from(text)))!;
        expect(m).toMatchObject({ time: T, stream, partial });
        expect(m.content.toString()).toBe(partial ? text : `${text}\n`);
      }),
    );
  });
});
