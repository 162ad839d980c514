// Concurrent edits across replicas: the newest keeps the path, each loser shows as a conflict
// copy on every replica, byte for byte, until someone deletes the copy (which resolves it).
import { constants } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { syncOnce } from '../client/index.ts';
import { canonicalTree, type ConflictEvent, FileSystem, openStore, Store, Workspace } from '../index.ts';
import { SyncService } from '../server/sync-service.ts';
import { checkNamesReachable } from './invariants.ts';

const A = '01JD3Q4Z5X6Y7Z8A9B0C1D2E3A';
const B = '01JD3Q4Z5X6Y7Z8A9B0C1D2E3B';

function replica(origin: string, ms: number) {
  const clock = { ms, now: () => clock.ms };
  const store = openStore({ clock, mintOrigin: () => origin });
  return { store, fs: FileSystem.live(store), clock };
}

/** Everything `from` has and `into` lacks moves to `into`, over the sync protocol. */
const pull = (into: Store, from: Store) => syncOnce(into, new SyncService(from));

const names = (fs: FileSystem) => fs.readdir('/').map((e) => Buffer.from(e.name).toString()).sort();
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

/** A Workspace lists what readdir lists (files only here, so in the same order), sized as stat sizes them. */
async function expectWorkspaceLists(store: Store, fs: FileSystem) {
  const listed = (await new Workspace({ sql: store }).readDir('/')).map((e) => [e.name, e.size]);
  expect(listed).toEqual(fs.readdir('/').map((e) => [text(e.name), fs.lstat(e.ino).size]));
}

/** Two replicas that both have `path` as A wrote it. */
async function bothHave(path: string, content: string) {
  const a = replica(A, 1_700_000_000_000);
  const b = replica(B, 1_700_000_000_000);
  a.fs.writeFile(path, content);
  await pull(b.store, a.store);
  return { a, b };
}

/** Two replicas that both edited `path` (A first, B later) since they last synced. */
async function editedOnBoth(path: string, fromA: string, fromB: string) {
  const { a, b } = await bothHave(path, 'base');
  a.clock.ms += 10;
  a.fs.writeFile(path, fromA);
  b.clock.ms += 20;
  b.fs.writeFile(path, fromB);
  return { a, b };
}

describe('conflict copies', () => {
  it('keep the loser visible on both sides until it is deleted', async () => {
    const { a, b } = await editedOnBoth('/notes.md', 'edit from A', 'edit from B');
    const events: ConflictEvent[] = [];
    a.store.onConflict((event) => events.push(event));
    await pull(a.store, b.store);
    await pull(b.store, a.store);

    for (const { store, fs } of [a, b]) {
      expect(text(fs.readFile('/notes.md'))).toBe('edit from B');
      const copy = names(fs).find((n) => n.startsWith('notes.conflict-'))!;
      expect(copy).toMatch(new RegExp(`^notes\\.conflict-${A}-\\d+\\.md$`));
      expect(text(fs.readFile(`/${copy}`))).toBe('edit from A');
      expect(fs.stat(`/${copy}`)).toMatchObject({ type: 'file', nlink: 1, size: 11 });
      await expectWorkspaceLists(store, fs);
    }
    expect(canonicalTree(a.fs)).toEqual(canonicalTree(b.fs));
    expect(events).toHaveLength(1);
    expect(events[0]!.losers).toHaveLength(1);

    const copy = names(a.fs).find((n) => n.startsWith('notes.conflict-'))!;
    expect(() => a.fs.writeFile(`/${copy}`, 'x')).toThrow(expect.objectContaining({ code: 'EPERM' }));
    expect(() => a.fs.rename(`/${copy}`, '/other')).toThrow(expect.objectContaining({ code: 'EPERM' }));
    a.fs.unlink(`/${copy}`);
    expect(names(a.fs)).toEqual(['notes.md']);
    await pull(b.store, a.store);
    expect(names(b.fs)).toEqual(['notes.md']);
    expect(text(b.fs.readFile('/notes.md'))).toBe('edit from B');
    expect(canonicalTree(a.fs)).toEqual(canonicalTree(b.fs));
    for (const { store } of [a, b]) expect(store.verify().ok).toBe(true);
  });

  it('keeps every name reachable when a file with a conflict copy is replaced while edited', async () => {
    const { a, b } = await editedOnBoth('/f', 'edit from A\n', 'edit from B\n');
    await pull(a.store, b.store);
    await pull(b.store, a.store);
    expect(names(a.fs)).toEqual(['f', expect.stringMatching(/^f\.conflict-/)]);

    // Partitioned: A saves f atomically (echo one > tmp && mv tmp f) while B appends to it.
    a.clock.ms += 10;
    a.fs.writeFile('/tmp', 'one\n');
    a.fs.rename('/tmp', '/f');
    b.clock.ms += 20;
    const fh = b.fs.open('/f', constants.O_WRONLY | constants.O_APPEND);
    b.fs.write(fh, Buffer.from('two\n'), 0);
    b.fs.release(fh);
    await pull(a.store, b.store);
    await pull(b.store, a.store);

    // A's new file keeps f; B's edited file stays beside it under its duplicate name, with its
    // conflict copy beside that.
    for (const { store, fs } of [a, b]) {
      const listed = names(fs);
      expect(listed).toHaveLength(3);
      expect(text(fs.readFile('/f'))).toBe('one\n');
      const dup = listed.find((n) => /^f\.dup-[^.]+$/.test(n))!;
      expect(text(fs.readFile(`/${dup}`))).toBe('edit from B\ntwo\n');
      const copy = listed.find((n) => n.includes('.conflict-'))!;
      expect(copy).toBe(`${dup}.conflict-${copy.split('.conflict-')[1]}`);
      expect(text(fs.readFile(`/${copy}`))).toBe('edit from A\n');
      checkNamesReachable(store, fs);
      await expectWorkspaceLists(store, fs);
    }
    expect(canonicalTree(a.fs)).toEqual(canonicalTree(b.fs));
  });

  it('cuts derived names of long names to 255 bytes, keeping them reachable', async () => {
    const a = replica(A, 1_700_000_000_000);
    const b = replica(B, 1_700_000_000_000);
    const long = `/${'é'.repeat(120)}.md`;
    a.fs.writeFile(long, 'from A');
    b.clock.ms += 5;
    b.fs.writeFile(long, 'from B');
    await pull(a.store, b.store);
    await pull(b.store, a.store);
    const dup = `/${names(a.fs).find((n) => n.includes('.dup-'))!}`;
    await expectWorkspaceLists(a.store, a.fs);
    a.clock.ms += 10;
    a.fs.writeFile(dup, 'A again');
    b.clock.ms += 20;
    b.fs.writeFile(dup, 'B again');
    await pull(a.store, b.store);
    await pull(b.store, a.store);
    for (const { store, fs } of [a, b]) {
      const listed = fs.readdir('/').map((e) => e.name);
      expect(listed).toHaveLength(3);
      for (const name of listed) {
        expect(name.length).toBeLessThanOrEqual(255);
        expect(Buffer.from(name).toString()).toMatch(/\.md$/);
        expect(Buffer.from(Buffer.from(name).toString()).equals(name), 'cut on a character boundary').toBe(true);
      }
      checkNamesReachable(store, fs);
    }
    expect(text(a.fs.readFile(dup))).toBe('B again');
  });

  it('does not treat sequential edits as a conflict', async () => {
    const { a, b } = await bothHave('/f', 'one');
    b.clock.ms += 5;
    b.fs.writeFile('/f', 'two');
    await pull(a.store, b.store);
    a.clock.ms += 10;
    a.fs.writeFile('/f', 'three');
    await pull(b.store, a.store);
    for (const { fs } of [a, b]) expect(names(fs)).toEqual(['f']);
    expect(text(b.fs.readFile('/f'))).toBe('three');
  });

  it('gives an xattr the newest write on both sides, whichever arrives last and was read before', async () => {
    const { a, b } = await bothHave('/f', 'x');
    a.clock.ms += 10;
    a.fs.setxattr('/f', 'user.k', Buffer.from('from A'));
    b.clock.ms += 20;
    b.fs.setxattr('/f', 'user.k', Buffer.from('from B'));
    b.fs.setxattr('/f', 'user.only', Buffer.from('B'));
    // each side reads its own value first (so it is cached), then the other's arrives
    for (const { fs } of [a, b]) fs.getxattr('/f', 'user.k');
    await pull(a.store, b.store);
    await pull(b.store, a.store);
    for (const { fs } of [a, b]) {
      expect(text(fs.getxattr('/f', 'user.k'))).toBe('from B');
      expect(text(fs.getxattr('/f', 'user.only'))).toBe('B');
    }
    b.fs.removexattr('/f', 'user.k');
    await pull(a.store, b.store);
    for (const { fs } of [a, b]) expect(() => fs.getxattr('/f', 'user.k')).toThrow(expect.objectContaining({ code: 'ENODATA' }));
  });
});
