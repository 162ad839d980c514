// The commit floor commits what ledgerfs commits: a row per request that changes something, and
// a written file's bytes at its release, a row per 512 KiB chunk.
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CHUNK_BYTES } from '../log/index.ts';
import { memfsTarget } from './mount.ts';

it('the commit floor commits each change, and written bytes a chunk a row', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-memfs-'));
  const floor = await memfsTarget(dir, 'commit');
  try {
    const script = `mkdir d && head -c ${2 * CHUNK_BYTES + 1} /dev/zero > d/f && chmod 600 d/f && mv d/f d/g && rm d/g`;
    const run = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: floor.dir, encoding: 'utf8' });
    expect(run.stderr).toBe('');
  } finally {
    await floor.stop(); // unmounting waits for the release, which the kernel sends after close returns
  }
  try {
    const db = new Database(join(dir, 'commit-floor.db'), { readonly: true });
    const rows = db.prepare('SELECT request, path, length(bytes) AS bytes FROM changes ORDER BY id').all() as Array<{ request: string; path: string; bytes: number | null }>;
    db.close();
    expect(rows.filter((row) => row.request !== 'write').map((row) => `${row.request} ${row.path} ${row.bytes}`)).toEqual([
      'mkdir /d null', 'create /d/f null', 'chmod /d/f null', 'rename /d/f null', 'unlink /d/g null',
    ]);
    expect(rows.filter((row) => row.request === 'write').map((row) => row.bytes)).toEqual([CHUNK_BYTES, CHUNK_BYTES, 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
