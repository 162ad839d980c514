// Concurrent edits across replicas: the newest keeps the path, each loser shows as a conflict
// copy on every replica, byte for byte, until someone deletes the copy (which resolves it).
import { describe, expect, it } from 'vitest';
import { unpackManifest, type Op } from '../log/index.ts';
import { canonicalTree, FileSystem, Store, type ConflictEvent } from './index.ts';

const A = '01JD3Q4Z5X6Y7Z8A9B0C1D2E3A';
const B = '01JD3Q4Z5X6Y7Z8A9B0C1D2E3B';

function replica(origin: string, ms: number) {
  const clock = { ms, now: () => clock.ms };
  const store = Store.open({ clock, mintOrigin: () => origin });
  return { store, fs: FileSystem.live(store), clock };
}

/** Moves everything `from` has and `into` lacks, chunks first. */
function pull(into: Store, from: Store): void {
  const ops: Op[] = from.log.after(into.log.versionVector(), 1_000_000).map((s) => s.op);
  for (const op of ops) {
    if (op.kind !== 'setContent') continue;
    for (const { hash } of unpackManifest(op.manifest)) if (!into.chunks.has(hash)) into.chunks.putVerified(hash, from.chunks.get(hash));
  }
  into.ingest(ops);
}

const names = (fs: FileSystem) => fs.readdir('/').map((e) => Buffer.from(e.name).toString()).sort();
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

describe('conflict copies', () => {
  it('keep the loser visible on both sides until it is deleted', () => {
    const a = replica(A, 1_700_000_000_000);
    const b = replica(B, 1_700_000_000_000);
    a.fs.writeFile('/notes.md', 'base');
    pull(b.store, a.store);
    a.clock.ms += 10;
    a.fs.writeFile('/notes.md', 'edit from A');
    b.clock.ms += 20;
    b.fs.writeFile('/notes.md', 'edit from B');
    const events: ConflictEvent[] = [];
    a.store.onConflict((event) => events.push(event));
    pull(a.store, b.store);
    pull(b.store, a.store);

    for (const { fs } of [a, b]) {
      expect(text(fs.readFile('/notes.md'))).toBe('edit from B');
      const copy = names(fs).find((n) => n.startsWith('notes.conflict-'))!;
      expect(copy).toMatch(new RegExp(`^notes\\.conflict-${A}-\\d+\\.md$`));
      expect(text(fs.readFile(`/${copy}`))).toBe('edit from A');
      expect(fs.stat(`/${copy}`)).toMatchObject({ type: 'file', nlink: 1, size: 11 });
    }
    expect(canonicalTree(a.fs)).toEqual(canonicalTree(b.fs));
    expect(events).toHaveLength(1);
    expect(events[0]!.losers).toHaveLength(1);

    const copy = names(a.fs).find((n) => n.startsWith('notes.conflict-'))!;
    expect(() => a.fs.writeFile(`/${copy}`, 'x')).toThrow(expect.objectContaining({ code: 'EPERM' }));
    expect(() => a.fs.rename(`/${copy}`, '/other')).toThrow(expect.objectContaining({ code: 'EPERM' }));
    a.fs.unlink(`/${copy}`);
    expect(names(a.fs)).toEqual(['notes.md']);
    pull(b.store, a.store);
    expect(names(b.fs)).toEqual(['notes.md']);
    expect(text(b.fs.readFile('/notes.md'))).toBe('edit from B');
    expect(canonicalTree(a.fs)).toEqual(canonicalTree(b.fs));
    for (const { store } of [a, b]) expect(store.verify().ok).toBe(true);
  });

  it('does not treat sequential edits as a conflict', () => {
    const a = replica(A, 1_700_000_000_000);
    const b = replica(B, 1_700_000_000_000);
    a.fs.writeFile('/f', 'one');
    pull(b.store, a.store);
    b.clock.ms += 5;
    b.fs.writeFile('/f', 'two');
    pull(a.store, b.store);
    a.clock.ms += 10;
    a.fs.writeFile('/f', 'three');
    pull(b.store, a.store);
    for (const { fs } of [a, b]) expect(names(fs)).toEqual(['f']);
    expect(text(b.fs.readFile('/f'))).toBe('three');
  });
});
