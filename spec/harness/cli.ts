// The ledgerfs CLI run as a process, the way the CLI tests run it: its sources on this Node.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const CLI = join(import.meta.dirname, '../../bin/ledgerfs.ts');

/** Runs `ledgerfs ...args` to the end: its exit code and output. */
export function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
