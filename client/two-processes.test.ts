// End to end: two `wsd` processes, each mounting its own on-disk store with kernel FUSE, the
// second syncing with the first (UPSTREAM_URL, with tokens) over a loopback WebSocket.
// Concurrent edits of one file through the two mounts end as one winner plus a conflict copy on
// both sides, byte for byte; a replica restarted from its store resends nothing.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../index.ts';
import { reap, spawnWsd, type WsdProcess } from '../server/wsd-process.ts';
import { until } from '../spec/harness/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-e2e-'));
const mounts = [join(dir, 'mnt1'), join(dir, 'mnt2')];
const dbs = [join(dir, 'one.db'), join(dir, 'two.db')];

afterAll(async () => {
  await reap();
  rmSync(dir, { recursive: true, force: true });
});


const contents = (mount: string) => Object.fromEntries(readdirSync(mount).sort().map((name) => [name, readFileSync(join(mount, name), 'utf8')]));

interface SyncStats {
  connected: boolean;
  lastSyncAt: number | null;
  pulled: number;
  pushed: number;
}

const syncStats = async (wsd: WsdProcess) => ((await (await wsd.fetch('/__wsd/stats')).json()) as { sync: SyncStats }).sync;
const synced = (wsd: WsdProcess) => until('a completed exchange with the upstream', async () => {
  const sync = await syncStats(wsd);
  return sync.lastSyncAt !== null ? sync : undefined;
});

describe('two wsd replicas in two processes', () => {
  it('converge on concurrent writes through their mounts, and resend nothing after a restart', async () => {
    const one = await spawnWsd({ MOUNT_POINT: mounts[0]!, FUSE_MOUNT: 'fuse', WSD_DB: dbs[0]!, WSD_TOKEN: 'one-secret' });
    const linked = { UPSTREAM_URL: `ws://127.0.0.1:${String(one.info.port)}/ws`, UPSTREAM_TOKEN: 'one-secret' };
    const twoEnv = { MOUNT_POINT: mounts[1]!, FUSE_MOUNT: 'fuse', WSD_DB: dbs[1]!, WSD_TOKEN: 'two-secret' };
    let two = await spawnWsd({ ...twoEnv, ...linked });
    await synced(two);

    writeFileSync(join(mounts[0]!, 'notes.md'), 'base\n');
    await until('the base file on replica two', () => (contents(mounts[1]!)['notes.md'] === 'base\n' ? true : undefined));

    // Partition: replica two runs without its upstream while both sides edit the same file and
    // write files of their own; then the partition heals.
    expect((await two.stop()).code).toBe(0);
    two = await spawnWsd(twoEnv);
    mounts.forEach((mount, i) => {
      writeFileSync(join(mount, 'notes.md'), `edit from replica ${i + 1}\n`);
      for (let n = 0; n < 10; n++) writeFileSync(join(mount, `r${i + 1}-${n}.txt`), `${i + 1}:${n}\n`);
    });
    expect((await two.stop()).code).toBe(0);
    two = await spawnWsd({ ...twoEnv, ...linked });
    const converged = await until('both mounts to show the same files', () => {
      const [a, b] = mounts.map(contents);
      return JSON.stringify(a) === JSON.stringify(b) && Object.keys(a!).length === 22 ? a : undefined;
    });
    const copies = Object.keys(converged).filter((name) => name.startsWith('notes.conflict-'));
    expect(copies).toHaveLength(1);
    expect(new Set([converged['notes.md'], converged[copies[0]!]])).toEqual(new Set(['edit from replica 1\n', 'edit from replica 2\n']));
    expect((await syncStats(two)).pushed).toBeGreaterThan(0);

    // Restart replica two from its file store: it has nothing to send or fetch.
    expect((await two.stop()).code).toBe(0);
    two = await spawnWsd({ ...twoEnv, ...linked });
    expect(await synced(two)).toMatchObject({ connected: true, pulled: 0, pushed: 0 });
    expect((await two.stop()).code).toBe(0);
    expect((await one.stop()).code).toBe(0);

    const fingerprints = dbs.map((file) => {
      const store = openStore({ file });
      try {
        expect(store.verify().ok).toBe(true);
        return store.log.fingerprint();
      } finally {
        store.close();
      }
    });
    expect(fingerprints[0]).toBe(fingerprints[1]);
  });
});
