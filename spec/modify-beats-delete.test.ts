// Modify beats delete, across replicas over the sync protocol: a removal concurrent with an edit
// of the same file keeps the file (at its name, with the edit), whatever order the ops arrive in;
// a removal that saw the edit, or an edit written to the already unlinked file, removes it.
import { constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../client/index.ts';
import { canonicalTree, FileSystem, openStore } from '../index.ts';
import { SyncService } from '../server/sync-service.ts';
import { ORIGINS } from './fc.ts';
import { checkNoLostWrites, checkTree } from './invariants.ts';

const [A, B, C] = ORIGINS;

function replica(origin: string, ms: number) {
  const clock = { ms, now: () => clock.ms };
  const store = openStore({ clock, mintOrigin: () => origin });
  return { store, fs: FileSystem.live(store), clock };
}

type Replica = ReturnType<typeof replica>;

const pull = (into: Replica, from: Replica) => syncOnce(into.store, new SyncService(from.store));
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const names = (fs: FileSystem, dir = '/') => fs.readdir(dir).map((e) => Buffer.from(e.name).toString()).sort();

/** Two replicas that share `setup`, each with its clock moved on, in sync. */
async function pair(setup: (fs: FileSystem) => void): Promise<[Replica, Replica]> {
  const a = replica(A!, 1_700_000_000_000);
  const b = replica(B!, 1_700_000_000_000);
  setup(a.fs);
  await pull(b, a);
  a.clock.ms += 10;
  b.clock.ms += 10;
  return [a, b];
}

/** Exchanges everything both ways and checks that the replicas agree and hold their invariants. */
async function converge(...replicas: Replica[]): Promise<void> {
  for (const a of replicas) for (const b of replicas) if (a !== b) await pull(a, b);
  const tree = canonicalTree(replicas[0]!.fs);
  for (const r of replicas) {
    expect(canonicalTree(r.fs)).toEqual(tree);
    expect(r.store.verify().ok).toBe(true);
    checkTree(r.store, r.fs);
    checkNoLostWrites(r.store);
  }
}

describe('modify beats delete', () => {
  for (const deleterLater of [false, true]) {
    it(`keeps a file deleted concurrently with an edit (the delete sorts ${deleterLater ? 'after' : 'before'} the edit)`, async () => {
      const [a, b] = await pair((fs) => fs.writeFile('/notes.md', 'base'));
      if (deleterLater) a.clock.ms += 100;
      else b.clock.ms += 100;
      a.fs.unlink('/notes.md');
      b.fs.writeFile('/notes.md', 'edited');
      await pull(a, b);
      expect(text(a.fs.readFile('/notes.md'))).toBe('edited');
      await converge(a, b);
      expect(names(b.fs)).toEqual(['notes.md']);
    });
  }

  it('removes a file whose delete saw the edit', async () => {
    const [a, b] = await pair((fs) => fs.writeFile('/f', 'base'));
    b.fs.writeFile('/f', 'edited');
    await pull(a, b);
    a.clock.ms += 10;
    a.fs.unlink('/f');
    await converge(a, b);
    expect(names(b.fs)).toEqual([]);
  });

  it('does not bring back a file written through a handle after its unlink, here or elsewhere', async () => {
    const [a, b] = await pair((fs) => fs.writeFile('/tmp', 'base'));
    const fh = a.fs.open('/tmp', constants.O_RDWR);
    a.fs.unlink('/tmp');
    a.fs.write(fh, Buffer.from('more'), 4);
    a.fs.release(fh);
    expect(names(a.fs)).toEqual([]);
    const write = [...a.store.log.scan()].map((s) => s.op).at(-1)!;
    expect(write).toMatchObject({ kind: 'setContent', deletes: [expect.stringMatching(new RegExp(`^${A}:`))] });
    await converge(a, b);
    expect(names(b.fs)).toEqual([]);
  });

  it('keeps the file if an edit concurrent with the delete arrives after a write to the unlinked file', async () => {
    const [a, b] = await pair((fs) => fs.writeFile('/f', 'base'));
    const fh = a.fs.open('/f', constants.O_RDWR);
    a.fs.unlink('/f');
    a.fs.write(fh, Buffer.from('A'), 0);
    a.fs.release(fh);
    b.clock.ms += 100;
    b.fs.writeFile('/f', 'edited by B');
    await converge(a, b);
    expect(names(a.fs)).toEqual(['f', expect.stringMatching(/^f\.conflict-/)]);
    expect(text(a.fs.readFile('/f'))).toBe('edited by B');
  });

  it('keeps a directory removed with rm -r while a file in it is edited', async () => {
    const [a, b] = await pair((fs) => {
      fs.mkdir('/dir');
      fs.writeFile('/dir/f', 'base');
      fs.writeFile('/dir/g', 'other');
    });
    a.fs.unlink('/dir/f');
    a.fs.unlink('/dir/g');
    a.fs.rmdir('/dir');
    b.fs.writeFile('/dir/f', 'edited');
    await converge(a, b);
    expect(names(a.fs, '/dir')).toEqual(['f']);
    expect(text(a.fs.readFile('/dir/f'))).toBe('edited');
  });

  it('brings back a removed directory when an entry is created in it concurrently', async () => {
    const [a, b] = await pair((fs) => fs.mkdir('/x/'));
    a.fs.mkdir('/x/y');
    await pull(b, a);
    a.fs.rmdir('/x/y');
    a.fs.rmdir('/x');
    b.clock.ms += 100;
    b.fs.writeFile('/x/y/new', 'data');
    await converge(a, b);
    expect(names(a.fs, '/x/y')).toEqual(['new']);
  });

  it('keeps a file replaced by a rename while it was edited, beside the new one', async () => {
    const [a, b] = await pair((fs) => {
      fs.writeFile('/f', 'base');
      fs.writeFile('/f.tmp', 'saved by A');
    });
    a.fs.rename('/f.tmp', '/f');
    b.fs.writeFile('/f', 'edited by B');
    await converge(a, b);
    const [kept, dup] = names(a.fs);
    expect(kept).toBe('f');
    expect(dup).toMatch(new RegExp(`^f\\.dup-${A}-\\d+$`));
    expect(text(a.fs.readFile('/f'))).toBe('saved by A');
    expect(text(a.fs.readFile(`/${dup}`))).toBe('edited by B');
  });

  it('removes one name of a hard-linked file edited concurrently: the edit shows through the other', async () => {
    const [a, b] = await pair((fs) => {
      fs.writeFile('/one', 'base');
      fs.link('/one', '/two');
    });
    a.fs.unlink('/one');
    b.fs.writeFile('/one', 'edited');
    await converge(a, b);
    expect(names(a.fs)).toEqual(['two']);
    expect(text(a.fs.readFile('/two'))).toBe('edited');
  });

  it('shows the kept file under a duplicate name when the deleter reused the name', async () => {
    const [a, b] = await pair((fs) => fs.writeFile('/f', 'base'));
    a.fs.unlink('/f');
    a.fs.writeFile('/f', 'new file');
    b.fs.writeFile('/f', 'edited');
    await converge(a, b);
    const [winner, dup] = names(a.fs);
    expect(text(a.fs.readFile(`/${winner}`))).toBe('new file');
    expect(text(a.fs.readFile(`/${dup}`))).toBe('edited');
  });

  it('is the same on a third replica whatever order it gets the ops in', async () => {
    const [a, b] = await pair((fs) => fs.writeFile('/f', 'base'));
    a.fs.unlink('/f');
    b.fs.writeFile('/f', 'edited');
    const c = replica(C!, 1_700_000_000_000);
    const d = replica(ORIGINS[3]!, 1_700_000_000_000);
    await pull(c, a);
    await pull(c, b);
    await pull(d, b);
    await pull(d, a);
    await converge(a, b, c, d);
    expect(text(d.fs.readFile('/f'))).toBe('edited');
  });
});

describe('projections of an older layout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-mbd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are rebuilt from the log at open', () => {
    const file = join(dir, 'old.db');
    const store = openStore({ file });
    const fs = FileSystem.live(store);
    fs.writeFile('/f', 'x');
    fs.unlink('/f');
    store.sql.exec('DROP TABLE removed_from; DROP TABLE removals');
    store.close();
    const reopened = openStore({ file });
    expect(reopened.sql.prepare('SELECT count(*) AS n FROM removals').get()).toEqual({ n: 1 });
    expect(reopened.verify().ok).toBe(true);
    reopened.close();
  });
});
