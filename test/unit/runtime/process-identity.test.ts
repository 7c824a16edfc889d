import { describe, expect, it } from 'vitest';
import { identify, isRunning, parseProcStat, readProcStat } from '../../../dataplane/node/runtime/process-identity.js';

// Field 22 (start time) is the 20th after the command name; fields 3–21 are made up here.
const stat = (pid: number, comm: string, state = 'S', pgrp = 100, start = '123456') =>
  `${pid} (${comm}) ${state} 1 ${pgrp} ${pgrp} 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 ${start} 1000 100 18446744073709551615`;

describe('parseProcStat', () => {
  it.each([
    ['a plain name', 'python3'],
    ['spaces and parentheses in the command name', 'my (odd) prog'],
    ['a name ending in ")"', 'x) S 1 2 3'],
  ])('%s', (_what, comm) => {
    expect(parseProcStat(stat(42, comm, 'S', 4242, '987654'))).toEqual({ pid: 42, state: 'S', ppid: 1, pgrp: 4242, session: 4242, startTime: '987654' });
  });

  it('rejects what is not a stat line', () => {
    expect(parseProcStat('')).toBeUndefined();
    expect(parseProcStat('42 (x) S 1 2')).toBeUndefined();
  });
});

describe('identities of live processes', () => {
  it('this process is running; the same pid with another start time is not', () => {
    const me = identify(process.pid)!;
    expect(me.startTime).toBe(readProcStat(process.pid)!.startTime);
    expect(isRunning(me)).toBe(true);
    expect(isRunning({ pid: process.pid, startTime: `${me.startTime}0` })).toBe(false);
    expect(identify(undefined)).toBeUndefined();
  });
});
