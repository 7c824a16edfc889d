/**
 * A process as the kernel names it for its whole life: its pid plus its start time (field 22
 * of /proc/PID/stat, clock ticks after boot). PIDs are reused — pid_max is 32768 on many
 * machines, so a busy one wraps in minutes — but a (pid, start time) pair never is. Whatever
 * knet signals by a pid it wrote down (a container's main process, recorded so a restarted
 * node agent can find it) is checked against the start time first, so a reused PID is never
 * killed by mistake.
 *
 * A container's main process is started in a session of its own (setsid), so its pid is also
 * its process group's id. The kernel does not hand out a number that is still in use as a
 * process group id, so:
 *   - leader alive with the recorded start time → the group is ours;
 *   - leader gone, and the pid now names another process → our group is gone entirely
 *     (otherwise the number could not have been reused): signal nothing;
 *   - leader gone, pid unused → any process still in that group is one of ours (a `sh -c`
 *     child, a daemon it started).
 * The one case this cannot tell apart is a pid reused, made a group leader and gone again,
 * leaving children, between two looks — a few thousand process creations in a moment.
 *
 * Linux only (/proc): elsewhere identities are undefined and nothing recorded is ever signalled.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** /proc/PID/stat field 22: clock ticks after boot, as text (compared, never computed with). */
  startTime: string;
}

export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie: exited, holds no memory, socket or file), T, … */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  startTime: string;
}

/** Parses /proc/PID/stat. The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'. */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf(' (');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state); field N is rest[N - 3].
  if (rest.length < 20) return undefined;
  return { pid: Number(text.slice(0, open)), state: rest[0]!, ppid: Number(rest[1]), pgrp: Number(rest[2]), session: Number(rest[3]), startTime: rest[19]! };
}

export function readProcStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The identity of a running process (undefined once it is gone, or without /proc). */
export function identify(pid: number | undefined): ProcessIdentity | undefined {
  if (!pid) return undefined;
  const stat = readProcStat(pid);
  return stat && stat.state !== 'Z' ? { pid, startTime: stat.startTime } : undefined;
}

/** The very process is still running (a zombie has exited: it runs no code and holds no socket). */
export function isRunning(id: ProcessIdentity): boolean {
  const stat = readProcStat(id.pid);
  return stat !== undefined && stat.startTime === id.startTime && stat.state !== 'Z';
}

/** Signals the process itself, if it is still the one recorded. */
export function signalProcess(id: ProcessIdentity, signal: NodeJS.Signals): void {
  if (!isRunning(id)) return;
  try {
    process.kill(id.pid, signal);
  } catch {
    // Gone meanwhile.
  }
}

/** Signals every process of the group `id` leads (or led), by the rules at the top of this file. */
export function signalGroup(id: ProcessIdentity, signal: NodeJS.Signals): void {
  const stat = readProcStat(id.pid);
  if (stat && stat.startTime !== id.startTime) return;
  try {
    process.kill(-id.pid, signal);
  } catch {
    // No process is left in the group.
  }
}

/** Processes of group `pgid` that still run (zombies excluded). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name.charCodeAt(0) > 57 || name.charCodeAt(0) < 49) continue;
    const stat = readProcStat(Number(name));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') out.push(stat.pid);
  }
  return out;
}

/**
 * Resolves once no process of the group runs any more (after a SIGKILL: a few milliseconds),
 * or after `timeoutMs`, whichever is first; true when the group is gone. The kernel offers no
 * event for another process's exit that Node can wait on (no pidfd), so this looks every 5 ms.
 */
export async function waitGroupGone(pgid: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (groupMembers(pgid).length === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Kills the whole group and waits until it is gone. */
export async function killGroup(id: ProcessIdentity, timeoutMs = 5000): Promise<boolean> {
  signalGroup(id, 'SIGKILL');
  const stat = readProcStat(id.pid);
  // The pid belongs to someone else now: our group was gone already.
  if (stat && stat.startTime !== id.startTime) return true;
  return waitGroupGone(id.pid, timeoutMs);
}
