// What /proc says about a process that called into the mount: its parent, a key that names it
// (pid and start time, so a reused pid is another process) and its command line. Read only for
// requests that can make an op; the key and the command line are cached.
import { ACTOR_COMMAND_CHARS_MAX } from '../log/index.ts';
import { readFileSync, statSync } from 'node:fs';

/** Processes (keys, command lines) remembered before a cache starts over. */
const PROCESSES_MAX = 4096;

/** A process's parent and its key, from /proc/<pid>/stat; null when it is gone. */
export function procStat(pid: number): { ppid: number; key: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name is in parentheses and may hold spaces: fields count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), key: `${pid}@${fields[19]}` };
  } catch {
    return null;
  }
}

/** A command line cut to what an actor keeps. */
export const actorCommand = (command: string) =>
  command.length > ACTOR_COMMAND_CHARS_MAX ? `${command.slice(0, ACTOR_COMMAND_CHARS_MAX - 1)}…` : command;

/** pid -> the inode number of its /proc directory when its key was read, the key, and when it was last checked */
const keys = new Map<number, { ino: number; key: string; checked: number }>();

/**
 * How long a key, once checked, is trusted without checking again. The kernel hands out pids
 * in a cycle up to pid_max (at least 32,768), so a pid comes back only after every other one
 * has been used: seconds at the fastest fork rates, far longer than this. A stat of
 * /proc/<pid> for a process blocked in a FUSE request takes about 25 us, and a tar extract
 * asks it for every write.
 */
const KEY_TRUSTED_MS = 100;

/**
 * The key of a live process, null when it is gone. The kernel gives each process's /proc/<pid>
 * directory an inode number of its own, so one stat tells whether the cached key is still this
 * pid's (a reused pid is a miss) instead of reading /proc/<pid>/stat on every request. A key
 * checked in the last KEY_TRUSTED_MS is returned as it is: a process gone since still has it.
 */
export function processKey(pid: number): string | null {
  const cached = keys.get(pid);
  const now = performance.now();
  if (cached && now - cached.checked < KEY_TRUSTED_MS) return cached.key;
  const ino = statSync(`/proc/${pid}`, { throwIfNoEntry: false })?.ino;
  if (ino === undefined) return null;
  if (cached?.ino === ino) {
    cached.checked = now;
    return cached.key;
  }
  const stat = procStat(pid);
  if (!stat) return null;
  if (keys.size >= PROCESSES_MAX) keys.clear();
  keys.set(pid, { ino, key: stat.key, checked: now });
  return stat.key;
}

const commandLines = new Map<string, string | undefined>();

/** The command line of `pid` (arguments joined by spaces), undefined when it cannot be read. */
export function commandLine(pid: number): string | undefined {
  const key = processKey(pid);
  if (!key) return undefined;
  if (commandLines.has(key)) return commandLines.get(key);
  let command: string | undefined;
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    command = actorCommand(raw.replace(/\0+$/, '').replaceAll('\0', ' ')) || undefined;
  } catch {
    command = undefined;
  }
  if (commandLines.size >= PROCESSES_MAX) commandLines.clear();
  commandLines.set(key, command);
  return command;
}
