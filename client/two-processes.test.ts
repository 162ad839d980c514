// End to end: two `wsd` processes, each mounting its own on-disk store with kernel FUSE, the
// second syncing with the first (UPSTREAM_URL, with tokens) over a loopback WebSocket.
// Concurrent edits of one file through the two mounts end as one winner plus a conflict copy on
// both sides, byte for byte; a replica restarted from its store resends nothing; every name the
// mounts list after an atomic save races an edit can be read and removed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../index.ts';
import { reap, spawnWsd, type WsdProcess } from '../spec/harness/wsd-process.ts';
import { until } from '../spec/harness/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-e2e-'));

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

interface Pair {
  one: WsdProcess;
  two: WsdProcess;
  mounts: [string, string];
  dbs: [string, string];
  /** restarts replica two, with its upstream (the partition heals) or without (partitioned) */
  restart(linked: boolean): Promise<void>;
}

/** Replica one (the hub) and replica two syncing with it, each on its own store and mount. */
async function startPair(name: string): Promise<Pair> {
  const mounts: Pair['mounts'] = [join(dir, `${name}-1`), join(dir, `${name}-2`)];
  const dbs: Pair['dbs'] = [join(dir, `${name}-1.db`), join(dir, `${name}-2.db`)];
  const one = await spawnWsd({ MOUNT_POINT: mounts[0], FUSE_MOUNT: 'fuse', WSD_DB: dbs[0], WSD_TOKEN: 'one-secret' });
  const upstream = { UPSTREAM_URL: `ws://127.0.0.1:${String(one.info.port)}/ws`, UPSTREAM_TOKEN: 'one-secret' };
  const twoEnv = { MOUNT_POINT: mounts[1], FUSE_MOUNT: 'fuse', WSD_DB: dbs[1], WSD_TOKEN: 'two-secret' };
  const pair: Pair = {
    one,
    two: await spawnWsd({ ...twoEnv, ...upstream }),
    mounts,
    dbs,
    async restart(linked) {
      expect((await pair.two.stop()).code).toBe(0);
      pair.two = await spawnWsd(linked ? { ...twoEnv, ...upstream } : twoEnv);
    },
  };
  await synced(pair.two);
  return pair;
}

/** Both stores pass verify and hold the same ops. */
function expectSameVerifiedLogs(dbs: readonly string[]): void {
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
}

describe('two wsd replicas in two processes', () => {
  it('converge on concurrent writes through their mounts, and resend nothing after a restart', async () => {
    const pair = await startPair('edits');
    const { one, mounts, dbs } = pair;

    writeFileSync(join(mounts[0]!, 'notes.md'), 'base\n');
    await until('the base file on replica two', () => (contents(mounts[1]!)['notes.md'] === 'base\n' ? true : undefined));

    // Partition: replica two runs without its upstream while both sides edit the same file and
    // write files of their own; then the partition heals.
    await pair.restart(false);
    mounts.forEach((mount, i) => {
      writeFileSync(join(mount, 'notes.md'), `edit from replica ${i + 1}\n`);
      for (let n = 0; n < 10; n++) writeFileSync(join(mount, `r${i + 1}-${n}.txt`), `${i + 1}:${n}\n`);
    });
    await pair.restart(true);
    const converged = await until('both mounts to show the same files', () => {
      const [a, b] = mounts.map(contents);
      return JSON.stringify(a) === JSON.stringify(b) && Object.keys(a!).length === 22 ? a : undefined;
    });
    const copies = Object.keys(converged).filter((name) => name.startsWith('notes.conflict-'));
    expect(copies).toHaveLength(1);
    expect(new Set([converged['notes.md'], converged[copies[0]!]])).toEqual(new Set(['edit from replica 1\n', 'edit from replica 2\n']));
    expect((await syncStats(pair.two)).pushed).toBeGreaterThan(0);

    // Restart replica two from its file store: it has nothing to send or fetch.
    await pair.restart(true);
    expect(await synced(pair.two)).toMatchObject({ connected: true, pulled: 0, pushed: 0 });
    expect((await pair.two.stop()).code).toBe(0);
    expect((await one.stop()).code).toBe(0);

    expectSameVerifiedLogs(dbs);
  });

  it('keep every listed name reachable after an atomic save races an edit of a file with a conflict copy', async () => {
    const pair = await startPair('names');
    const { mounts, dbs } = pair;
    const f = mounts.map((mount) => join(mount, 'f'));
    writeFileSync(f[0]!, 'base\n');
    await until('f on replica two', () => (contents(mounts[1]!).f === 'base\n' ? true : undefined));
    await pair.restart(false);
    f.forEach((path, i) => writeFileSync(path, `edit from replica ${i + 1}\n`));
    await pair.restart(true);
    await until('f and its conflict copy on both', () => (mounts.every((mount) => readdirSync(mount).length === 2) ? true : undefined));

    // Partitioned again: one saves f atomically while two appends to it; then they heal.
    await pair.restart(false);
    expect(spawnSync('sh', ['-c', 'echo one > tmp && mv tmp f'], { cwd: mounts[0] }).status).toBe(0);
    expect(spawnSync('sh', ['-c', 'echo two >> f'], { cwd: mounts[1] }).status).toBe(0);
    await pair.restart(true);
    const listed = await until('the same three names on both', () => {
      const [a, b] = mounts.map((mount) => readdirSync(mount).sort());
      return a!.length === 3 && JSON.stringify(a) === JSON.stringify(b) ? a : undefined;
    });
    expect(listed).toEqual(['f', expect.stringMatching(/^f\.dup-[^.]+$/), expect.stringMatching(/^f\.dup-[^.]+\.conflict-[^.]+$/)]);
    for (const mount of mounts) {
      expect(readFileSync(join(mount, 'f'), 'utf8')).toBe('one\n');
      for (const name of listed) expect(statSync(join(mount, name)).isFile()).toBe(true);
      expect(readFileSync(join(mount, listed[1]!), 'utf8')).toMatch(/\ntwo\n$/);
      expect(readFileSync(join(mount, listed[2]!), 'utf8')).toMatch(/^edit from replica [12]\n$/);
    }

    // Removing the copy (which resolves it) and the duplicate on replica two leaves f on both.
    for (const name of listed.slice(1).reverse()) rmSync(join(mounts[1], name));
    await until('only f on both', () => (mounts.every((mount) => readdirSync(mount).join() === 'f') ? true : undefined));
    expect((await pair.two.stop()).code).toBe(0);
    expect((await pair.one.stop()).code).toBe(0);
    expectSameVerifiedLogs(dbs);
  });
});
