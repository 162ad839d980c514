// What /proc says about a process that called into the mount: its parent, a key that names it
// (pid and start time, so a reused pid is another process) and its command line. Read only for
// requests that can make an op, and the command line is cached per key.
import { ACTOR_COMMAND_CHARS_MAX } from '../log/index.ts';
import { readFileSync } from 'node:fs';

/** Command lines remembered before the cache starts over. */
const COMMAND_LINES_MAX = 4096;

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

const commandLines = new Map<string, string | undefined>();

/** The command line of `pid` (arguments joined by spaces), undefined when it cannot be read. */
export function commandLine(pid: number): string | undefined {
  const stat = procStat(pid);
  if (!stat) return undefined;
  if (commandLines.has(stat.key)) return commandLines.get(stat.key);
  let command: string | undefined;
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    command = actorCommand(raw.replace(/\0+$/, '').replaceAll('\0', ' ')) || undefined;
  } catch {
    command = undefined;
  }
  if (commandLines.size >= COMMAND_LINES_MAX) commandLines.clear();
  commandLines.set(stat.key, command);
  return command;
}
