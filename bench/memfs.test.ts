// The commit floor commits what ledgerfs commits: a row per request that changes something,
// before answering it, and a written file's bytes at its release, a row per 512 KiB chunk.
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CHUNK_BYTES } from '../log/index.ts';
import { memfsTarget } from './mount.ts';

it('the commit floor commits each change before answering it, and written bytes a chunk a row', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-memfs-'));
  const floor = await memfsTarget(dir, 'commit');
  try {
    const run = spawnSync('bash', ['-euo', 'pipefail', '-c', `mkdir d && head -c ${2 * CHUNK_BYTES + 1} /dev/zero > d/f && chmod 600 d/f && mv d/f d/g && rm d/g`], { cwd: floor.dir, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    // read while the floor still runs: what it answered is committed already
    const db = new Database(join(dir, 'commit-floor.db'), { readonly: true });
    const rows = db.prepare('SELECT request, path, length(bytes) AS bytes FROM changes ORDER BY id').all();
    db.close();
    expect(rows).toEqual([
      { request: 'mkdir', path: '/d', bytes: null },
      { request: 'create', path: '/d/f', bytes: null },
      ...[CHUNK_BYTES, CHUNK_BYTES, 1].map((bytes) => ({ request: 'write', path: expect.any(String), bytes })),
      { request: 'chmod', path: '/d/f', bytes: null },
      { request: 'rename', path: '/d/f', bytes: null },
      { request: 'unlink', path: '/d/g', bytes: null },
    ]);
  } finally {
    await floor.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
