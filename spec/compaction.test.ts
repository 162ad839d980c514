// Compaction, case by case: a checkpoint replaces the log prefix and changes nothing a reader or a
// peer can see; the protocol answers "snapshot required" to a peer behind it; a cold replica and
// a laggard with unsent ops load it; the stable cut; the pages.
import { constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../client/index.ts';
import { CheckpointError, stableCut, type Op } from '../log/index.ts';
import { canonicalTree, FileSystem, openHistory, openSqlite, openStore, Projector, stateDigest } from '../index.ts';
import { loadState, statePages } from '../projections/checkpoint-state.ts';
import { SyncService } from '../server/sync-service.ts';
import { checkNoLostWrites, checkTree } from './invariants.ts';

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-compaction-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let minted = 0;
const mint = () => `01JD3Q4Z5X6Y7Z8A9B0C${String(minted++).padStart(6, '0')}`;

function replica(ms = 1_700_000_000_000, file?: string) {
  const clock = { ms, now: () => clock.ms };
  const store = openStore({ clock, mintOrigin: mint, ...(file ? { file } : {}) });
  return { store, fs: FileSystem.live(store), clock };
}

type Replica = ReturnType<typeof replica>;

const sync = (into: Replica, from: Replica) => syncOnce(into.store, new SyncService(from.store));
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return 'ok';
};

/** A small history: a directory, a file edited twice, a hard link, a removed file and directory. */
function history({ fs, clock }: Replica): void {
  fs.mkdir('/src');
  fs.writeFile('/src/a', 'one');
  fs.link('/src/a', '/src/b');
  clock.ms += 10;
  fs.writeFile('/src/a', 'two');
  fs.writeFile('/tmp', 'scratch');
  fs.unlink('/tmp');
  fs.mkdir('/gone');
  fs.rmdir('/gone');
}

describe('Store.compact', () => {
  it('replaces the log prefix with a checkpoint that changes nothing a reader sees', () => {
    const r = replica();
    history(r);
    const newest = r.store.log.maxTs()!;
    const before = { cursor: r.store.log.cursor(), tree: canonicalTree(r.fs), state: stateDigest(r.store.sql, r.store.log) };
    const checkpoint = r.store.compact(newest);
    expect(checkpoint).toMatchObject({ ts: newest, ops: 10, versionVector: before.cursor.versionVector, fingerprint: before.cursor.fingerprint, pages: 1 });
    expect(r.store.log.count()).toBe(0);
    expect(r.store.log.cursor()).toEqual(before.cursor);
    expect(canonicalTree(r.fs)).toEqual(before.tree);
    expect(stateDigest(r.store.sql, r.store.log)).toBe(before.state);
    expect(r.store.verify().ok).toBe(true);
    r.fs.writeFile('/src/a', 'three');
    expect(r.store.verify().ok).toBe(true);
    expect(text(r.fs.readFile('/src/b'))).toBe('three');
  });

  it('keeps the chunks the checkpoint names and lets gc take the rest', () => {
    const r = replica();
    r.fs.writeFile('/f', 'old bytes');
    r.fs.writeFile('/f', 'new bytes');
    r.store.compact(r.store.log.maxTs()!);
    expect(r.store.gc().count).toBe(1);
    expect(text(r.fs.readFile('/f'))).toBe('new bytes');
  });

  it('refuses a cut that does not pass the checkpoint or that no op has reached', () => {
    const r = replica();
    r.fs.mkdir('/a');
    const first = r.store.log.maxTs()!;
    r.fs.mkdir('/b');
    r.store.compact(r.store.log.maxTs()!);
    expect(() => r.store.compact(first)).toThrow(CheckpointError);
    expect(() => r.store.compact(`ffffffffffff.0000.${r.store.origin}`)).toThrow(/after every timestamp/);
    expect(() => openHistory(r.store, first)).toThrow(/before the checkpoint/);
  });

  it('survives a reopen: the checkpoint, the cursor and the tree', () => {
    const file = join(dir, 'reopen.db');
    const r = replica(1_700_000_000_000, file);
    history(r);
    r.store.compact(r.store.log.maxTs()!);
    r.fs.writeFile('/after', 'x');
    const cursor = r.store.log.cursor();
    const tree = canonicalTree(r.fs);
    r.store.close();
    const again = replica(1_700_000_000_000, file);
    expect(again.store.log.cursor()).toEqual(cursor);
    expect(canonicalTree(again.fs)).toEqual(tree);
    expect(again.store.verify().ok).toBe(true);
    again.store.close();
  });

  it('keeps a file unlinked but open from coming back when written after the checkpoint', () => {
    const r = replica();
    r.fs.writeFile('/f', 'one');
    const fh = r.fs.open('/f', constants.O_RDWR);
    r.fs.unlink('/f');
    r.store.compact(r.store.log.maxTs()!);
    r.fs.write(fh, Buffer.from('two'), 0);
    r.fs.release(fh);
    expect(r.fs.exists('/f')).toBe(false);
    expect(r.store.verify().ok).toBe(true);
    checkNoLostWrites(r.store);
  });

  it('brings back a directory removed before the checkpoint when something is put in it', () => {
    const r = replica();
    r.fs.mkdir('/d');
    r.fs.rmdir('/d');
    const removal = [...r.store.log.scan()].at(-1)!.op as Op & { kind: 'rmdir' };
    r.store.compact(r.store.log.maxTs()!);
    // An op made without seeing the removal (say, by a replica that rebased it after the cut).
    r.store.commit({ kind: 'create', parent: removal.node, name: Buffer.from('f'), type: 'file', mode: 0o644, uid: 0, gid: 0, target: Buffer.alloc(0), rdev: 0 }, { kind: 'api' });
    expect(r.fs.readdir('/d').map((e) => text(e.name))).toEqual(['f']);
    checkTree(r.store, r.fs);
    expect(r.store.verify().ok).toBe(true);
  });
});

describe('stableCut', () => {
  it('needs every op a replica acknowledged to be here', () => {
    const a = replica();
    const b = replica(1_700_000_000_005);
    a.fs.mkdir('/one');
    b.fs.mkdir('/two');
    expect(() => stableCut(a.store.log, [b.store.log.versionVector()])).toThrow(/lacks/);
  });

  it('stops before the first op some replica lacks and at the least of their newest ops', async () => {
    const a = replica();
    const b = replica(1_700_000_000_005);
    a.fs.mkdir('/one');
    await sync(b, a);
    await sync(a, b);
    const both = a.store.log.maxTs()!;
    a.clock.ms += 100;
    a.fs.mkdir('/two');
    expect(stableCut(a.store.log, [b.store.log.versionVector()])).toBe(both);
    expect(stableCut(a.store.log, [])).toBe(a.store.log.maxTs());
    a.store.compact(both);
    expect(stableCut(a.store.log, [b.store.log.versionVector()])).toBeUndefined();
  });
});

describe('snapshot protocol', () => {
  it('answers a peer behind the checkpoint with ESNAPSHOT and serves its pages', () => {
    const hub = replica();
    history(hub);
    hub.store.compact(hub.store.log.maxTs()!);
    const service = new SyncService(hub.store);
    expect(code(() => service.pull({}))).toBe('ESNAPSHOT');
    expect(service.pull(hub.store.log.versionVector()).ops).toEqual([]);
    expect(service.snapshot(0).checkpoint).toEqual(hub.store.log.checkpoint);
    expect(code(() => service.snapshot(1))).toBe('EINVAL');
    expect(code(() => new SyncService(replica().store).snapshot(0))).toBe('EINVAL');
  });

  it('refuses a pushed op that sorts inside the checkpoint, changing nothing', () => {
    const hub = replica(1_700_000_000_100);
    const late = replica(1_700_000_000_000);
    hub.fs.mkdir('/x');
    late.fs.mkdir('/y');
    hub.store.compact(hub.store.log.maxTs()!);
    const before = hub.store.log.cursor();
    const ops = [...late.store.log.scan()].map((s) => s.bytes);
    expect(code(() => new SyncService(hub.store).push(ops))).toBe('ESNAPSHOT');
    expect(hub.store.log.cursor()).toEqual(before);
  });

  it('loads the checkpoint into a cold replica, which then follows the suffix', async () => {
    const hub = replica();
    history(hub);
    hub.store.compact(hub.store.log.maxTs()!);
    hub.fs.writeFile('/src/a', 'after the checkpoint');
    const cold = replica();
    const result = await sync(cold, hub);
    expect(result.snapshot).toEqual({ rebased: 0 });
    expect(cold.store.log.checkpoint).toEqual(hub.store.log.checkpoint);
    expect(cold.store.log.cursor()).toEqual(hub.store.log.cursor());
    expect(canonicalTree(cold.fs)).toEqual(canonicalTree(hub.fs));
    expect(cold.store.verify().ok).toBe(true);
  });

  it('rebases a laggard\'s unsent ops as new ops of a new origin, refs following them', async () => {
    const hub = replica(1_700_000_000_100);
    const laggard = replica(1_700_000_000_000);
    hub.fs.mkdir('/shared');
    await sync(laggard, hub);
    const origin = laggard.store.origin;
    laggard.fs.writeFile('/shared/mine', 'made before the cut');
    hub.clock.ms += 10;
    hub.fs.writeFile('/shared/hubs', 'hub');
    hub.store.compact(hub.store.log.maxTs()!);
    const result = await sync(laggard, hub);
    expect(result.snapshot).toEqual({ rebased: 2 });
    expect(laggard.store.origin).not.toBe(origin);
    expect(laggard.store.log.versionVector()[origin]).toBeUndefined();
    await sync(hub, laggard);
    for (const { fs, store } of [hub, laggard]) {
      expect(fs.readdir('/shared').map((e) => text(e.name))).toEqual(['hubs', 'mine']);
      expect(text(fs.readFile('/shared/mine'))).toBe('made before the cut');
      expect(store.verify().ok).toBe(true);
    }
    expect(laggard.store.log.cursor()).toEqual(hub.store.log.cursor());
  });

  it('rebases a laggard\'s edit that would keep a file whose removal the checkpoint settled', async () => {
    const hub = replica(1_700_000_000_000);
    const laggard = replica(1_700_000_000_500);
    hub.fs.writeFile('/f', 'base');
    await sync(laggard, hub);
    hub.fs.unlink('/f');
    hub.store.compact(hub.store.log.maxTs()!);
    laggard.fs.writeFile('/f', 'edited after the cut, without seeing the unlink');
    const edit = [...laggard.store.log.scan()].at(-1)!.op;
    expect(edit.ts > hub.store.log.checkpoint!.ts).toBe(true);
    expect(code(() => hub.store.ingest([edit]))).toBe('ESNAPSHOT');
    const result = await sync(laggard, hub);
    expect(result.snapshot).toEqual({ rebased: 1 });
    await sync(hub, laggard);
    for (const { fs, store } of [hub, laggard]) {
      expect(fs.exists('/f')).toBe(false);
      expect(store.verify().ok).toBe(true);
      checkNoLostWrites(store);
    }
    expect(laggard.store.log.cursor()).toEqual(hub.store.log.cursor());
  });

  it('refuses to merge a checkpoint when this replica\'s own holds ops the peer lacks', async () => {
    const a = replica(1_700_000_000_100);
    const b = replica(1_700_000_000_000);
    a.fs.mkdir('/a');
    b.fs.mkdir('/b');
    a.store.compact(a.store.log.maxTs()!);
    b.store.compact(b.store.log.maxTs()!);
    await expect(sync(b, a)).rejects.toThrow(/cannot be merged/);
  });
});

describe('checkpoint pages', () => {
  it('split under the page size and load back to the same state', () => {
    const r = replica();
    for (let i = 0; i < 50; i++) r.fs.writeFile(`/file-${i}`, `content ${i}`);
    r.store.projector.flush();
    const pages = statePages(r.store.sql, r.store.log, 4096);
    expect(pages.length).toBeGreaterThan(3);
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(4096);
    const scratch = openSqlite(':memory:');
    new Projector(scratch, r.store.log);
    loadState(scratch, r.store.log, pages);
    expect(stateDigest(scratch, r.store.log)).toBe(stateDigest(r.store.sql, r.store.log));
    scratch.close();
  });

  it('are refused, as a CheckpointError naming the part, when their sections or rows are malformed', () => {
    const r = replica();
    const scratch = openSqlite(':memory:');
    new Projector(scratch, r.store.log);
    const pack = (value: unknown) => new Packr({ useRecords: false }).pack(value);
    for (const [page, message] of [
      [pack({}), /not a list of sections/],
      [pack([['content', 5, []]]), /not \[table, columns, rows\]/],
      [pack([['content', ['node'], [7]]]), /not \[table, columns, rows\]/],
      [pack([['content', ['node', 'op', 'ts', 'size', 'manifest'], [pack('row')]]]), /row of content is not 5 values/],
    ] as const) {
      expect(() => loadState(scratch, r.store.log, [page])).toThrow(CheckpointError);
      expect(() => loadState(scratch, r.store.log, [page])).toThrow(message);
    }
    scratch.close();
  });

  it('are refused when they do not match the checkpoint', () => {
    const hub = replica();
    hub.fs.mkdir('/a');
    const checkpoint = hub.store.compact(hub.store.log.maxTs()!);
    const cold = replica();
    cold.store.log.stage(0, Buffer.from('not the page'));
    expect(() => cold.store.installSnapshot(checkpoint, hub.store.log.versionVector())).toThrow(/do not match/);
  });
});
