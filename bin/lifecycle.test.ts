// Stopping the daemon the way scripts and supervisors do: SIGTERM to the one pid they have. For
// `npm start`, that pid is npm's, which does not pass the signal on: the daemon stops when its
// parent goes away, and unmounts.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forceUnmount } from '../mount/fuse-mount.ts';
import { until } from '../spec/harness/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-lifecycle-'));
const mnt = join(dir, 'mnt');
afterAll(async () => {
  await forceUnmount(mnt);
  rmSync(dir, { recursive: true, force: true });
});

const mounted = (path: string) => readFileSync('/proc/mounts', 'utf8').split('\n').some((line) => line.split(' ')[1] === path);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('stopping wsd by pid', () => {
  it('SIGTERM to the pid of npm start stops the daemon and unmounts', async () => {
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: join(import.meta.dirname, '..'), detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MOUNT_POINT: mnt, FUSE_MOUNT: 'fuse', PORT: '0', WSD_DB: 'memory' },
    });
    let out = '';
    npm.stdout.on('data', (data: Buffer) => (out += data.toString()));
    const ready = await until('the ready line', () => out.split('\n').map((line) => (line.startsWith('{') ? JSON.parse(line) as { event: string; port: number } : null)).find((e) => e?.event === 'ready') ?? undefined);
    expect(mounted(mnt)).toBe(true);
    // The daemon is npm's child (sh execs it): find it by the port it serves.
    const health = await fetch(`http://127.0.0.1:${ready.port}/health`);
    expect(health.status).toBe(200);
    process.kill(npm.pid!, 'SIGTERM');
    await until('the mount to go', () => (mounted(mnt) ? undefined : true), 15_000);
    await until('the port to close', async () => (await fetch(`http://127.0.0.1:${ready.port}/health`).then(() => undefined, () => true)), 15_000);
    expect(alive(npm.pid!)).toBe(false);
  });
});
