// The commit floor commits what ledgerfs commits: a row per request that changes something, and
// the chunks written through a file, each distinct one once under its sha256, at its release.
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CHUNK_BYTES } from '../log/index.ts';
import { memfsTarget } from './mount.ts';

it('the commit floor commits each change, and written chunks content-addressed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-memfs-'));
  const floor = await memfsTarget(dir, 'commit');
  try {
    // Two equal full chunks and a one-byte tail; then 40 MiB, past the 16 MiB a file may hold unstored.
    const script = `mkdir d && head -c ${2 * CHUNK_BYTES + 1} /dev/zero > d/f && chmod 600 d/f && mv d/f d/g && rm d/g && head -c ${80 * CHUNK_BYTES} /dev/urandom > big`;
    const run = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: floor.dir, encoding: 'utf8' });
    expect(run.stderr).toBe('');
  } finally {
    await floor.stop(); // unmounting waits for the release, which the kernel sends after close returns
  }
  try {
    const db = new Database(join(dir, 'commit-floor.db'), { readonly: true });
    const rows = db.prepare('SELECT request, path FROM changes ORDER BY id').all() as Array<{ request: string; path: string }>;
    const chunks = db.prepare('SELECT length(hash) AS hash, length(data) AS bytes FROM chunks').all() as Array<{ hash: number; bytes: number }>;
    db.close();
    // The kernel sends a release after close returns: the content rows' place among the others varies.
    expect(rows.filter((row) => row.request !== 'content').map((row) => `${row.request} ${row.path}`)).toEqual([
      'mkdir /d', 'create /d/f', 'chmod /d/f', 'rename /d/f', 'unlink /d/g', 'create /big',
    ]);
    expect(rows.filter((row) => row.request === 'content').length).toBe(2); // each file's chunks, at its release
    expect(chunks.every((chunk) => chunk.hash === 32)).toBe(true);
    expect(chunks.map((chunk) => chunk.bytes).sort((a, b) => a - b)).toEqual([1, ...Array(81).fill(CHUNK_BYTES)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
