// Test and bench harness: a fresh store mounted by a real `ledgerfs mount` process at a unique
// mount point under a temp dir. stop() always leaves nothing mounted: SIGTERM, then
// fusermount -u, then a lazy unmount.
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { openStore } from '../../index.ts';
import { forceUnmount } from '../../mount/fuse-mount.ts';

const CLI = join(import.meta.dirname, `../../bin/ledgerfs${extname(import.meta.filename)}`);
const STOP_MS_MAX = 15_000;

export interface Mounted {
  dir: string;
  db: string;
  mnt: string;
  /** the `ledgerfs mount` process */
  pid: number;
  /** runs a bash command; throws with its stderr when it fails */
  sh(command: string, options?: SpawnSyncOptions): string;
  stop(): Promise<void>;
}

export async function mountFresh(prefix = 'ledgerfs-mount-'): Promise<Mounted> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755); // other users must reach the mount (permission tests)
  const db = join(dir, 'workspace.db');
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  openStore({ file: db }).close();
  const child = spawn(process.execPath, [CLI, 'mount', db, mnt, '--mode', 'fuse'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => { if (chunk.toString().includes('mounted')) resolve(); });
    child.once('exit', (code) => reject(new Error(`ledgerfs mount exited ${code}: ${stderr}`)));
  });
  const sh = (command: string, options: SpawnSyncOptions = {}) => {
    const result = spawnSync('bash', ['-euo', 'pipefail', '-c', command], { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
    if (result.status !== 0) throw new Error(`${command}\nexit ${result.status}: ${String(result.stderr)}`);
    return String(result.stdout);
  };
  const stop = async () => {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS_MAX);
    await exited;
    clearTimeout(timer);
    await forceUnmount(mnt);
    if (stderr.trim()) process.stderr.write(`ledgerfs mount said:\n${stderr}`);
  };
  return { dir, db, mnt, pid: child.pid!, sh, stop };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
