// Checkers for the design's invariants that hold on any one replica: the tree (acyclic, every
// entry reachable from the root or the trash, parents are directories, directories in the trash
// are empty, link and subdirectory counts right, no duplicate visible names), content (every
// referenced chunk present, sizes add up), no lost writes, and every listed name reachable. They
// read the projection tables and the log directly, not through the code under test, but for
// the last, which is about what the filesystem API answers.
import { expect } from 'vitest';
import { CHUNK_BYTES, formatRef, ROOT_ID, TRASH_ID, unpackManifest, type Op, type Ts } from '../log/index.ts';
import type { FileSystem, Store } from '../projections/index.ts';
import { unpackRefs } from '../projections/removals.ts';
import { READAHEAD_MISSES } from '../projections/rows.ts';

interface Row {
  id: number;
  parent: number;
  node: number;
  type: string;
  ts: Ts;
}

export function checkTree(store: Store, fs: FileSystem): void {
  store.projector.flush();
  const entries = store.sql.prepare<Row>('SELECT id, parent, node, type, ts FROM entries').all();
  const nodes = new Map(store.sql.prepare<{ id: number; type: string | null; links: number; subdirs: number }>('SELECT id, type, links, subdirs FROM nodes').all().map((n) => [n.id, n]));
  const byId = new Map(entries.map((e) => [e.id, e]));
  const links = new Map<number, number>();
  const subdirs = new Map<number, number>();
  for (const entry of entries) {
    let at = entry.parent;
    for (let steps = 0; at !== ROOT_ID && at !== TRASH_ID; steps++) {
      expect(steps, `entry ${entry.id} is on a cycle`).toBeLessThanOrEqual(entries.length);
      const up = byId.get(at);
      expect(up, `entry ${entry.id} hangs off missing directory ${at}`).toBeDefined();
      at = up!.parent;
    }
    expect(nodes.get(entry.parent)?.type, `parent of entry ${entry.id}`).toBe('dir');
    if (entry.parent !== ROOT_ID && entry.parent !== TRASH_ID) expect(byId.get(entry.parent)!.parent, `entry ${entry.id} hangs under a removed directory`).not.toBe(TRASH_ID);
    expect(nodes.get(entry.node)?.type, `type of entry ${entry.id}`).toBe(entry.type);
    if (entry.type === 'dir') expect(entry.id, 'a directory entry shares its node id').toBe(entry.node);
    if (entry.parent !== TRASH_ID) links.set(entry.node, (links.get(entry.node) ?? 0) + 1);
    if (entry.type === 'dir') subdirs.set(entry.parent, (subdirs.get(entry.parent) ?? 0) + 1);
  }
  for (const node of nodes.values()) {
    expect(node.links, `links of node ${node.id}`).toBe(links.get(node.id) ?? 0);
    expect(node.subdirs, `subdirs of node ${node.id}`).toBe(subdirs.get(node.id) ?? 0);
  }
  const visit = (dir: number) => {
    const names = fs.readdir(dir).map((e) => Buffer.from(e.name).toString('hex'));
    expect(new Set(names).size, `duplicate visible names in ${dir}`).toBe(names.length);
    for (const e of fs.readdir(dir)) if (e.type === 'dir') visit(e.ino);
  };
  visit(ROOT_ID);
}

/**
 * No lost writes: every setContent in the log is the base of another setContent, or a head of its
 * node (its current content or a conflict copy). A head of a node with no visible name was
 * deliberately removed: the removal that took the node's last name saw it, or it was written
 * after that removal (to the unlinked file) and says so. A delete concurrent with an edit loses.
 */
export function checkNoLostWrites(store: Store): void {
  store.projector.flush();
  const heads = new Set(store.sql.prepare<{ op: number }>('SELECT op FROM heads').all().map((r) => r.op));
  const entries = store.sql.prepare<Row>('SELECT id, parent, node, type, ts FROM entries').all();
  const visible = new Set<number>([ROOT_ID]);
  for (let grew = true; grew;) {
    grew = false;
    for (const entry of entries) {
      if (visible.has(entry.parent) && !visible.has(entry.node)) {
        visible.add(entry.node);
        grew = true;
      }
    }
  }
  const bases = new Set<string>();
  const byTs = new Map<Ts, Op>();
  const writes: Array<{ id: number; op: Op & { kind: 'setContent' } }> = [];
  for (const { id, op } of store.log.scan()) {
    byTs.set(op.ts, op);
    if (op.kind !== 'setContent') continue;
    for (const base of op.base) bases.add(base);
    writes.push({ id, op });
  }
  for (const { id, op } of writes) {
    const ref = formatRef(op.origin, op.seq);
    if (bases.has(ref)) continue;
    expect(heads.has(id), `setContent ${ref} is neither a base nor a head`).toBe(true);
    const node = store.log.localId(op.node);
    if (visible.has(node)) continue;
    const names = entries.filter((e) => e.node === node);
    expect(names.length, `setContent ${ref}: its node has no entry`).toBeGreaterThan(0);
    for (const name of names) expect(name.parent, `setContent ${ref}: its node's entry ${name.id} hangs under a removed directory`).toBe(TRASH_ID);
    const last = names.reduce((a, b) => (a.ts > b.ts ? a : b));
    const removal = removalAt(store, byTs, last.ts);
    expect(removal.seen.includes(ref) || op.deletes.includes(removal.ref), `setContent ${ref} was lost to the concurrent removal ${removal.ref}`).toBe(true);
  }
}

/** The removal at `ts`: from the log, or, when a checkpoint replaced it, from its recorded verdict. */
function removalAt(store: Store, byTs: ReadonlyMap<Ts, Op>, ts: Ts): { ref: string; seen: readonly string[] } {
  const op = byTs.get(ts);
  if (op) return { ref: formatRef(op.origin, op.seq), seen: op.kind === 'unlink' || op.kind === 'rmdir' || op.kind === 'move' ? op.seen : [] };
  expect(ts <= store.log.checkpoint!.ts, `no op at ${ts}`).toBe(true);
  const row = store.sql.prepare<{ op: number; seen: Uint8Array | null }>('SELECT op, seen FROM removals WHERE ts = ?').get(ts);
  expect(row, `the removal at ${ts} took a last name but has no verdict`).toBeDefined();
  return { ref: store.log.globalRef(row!.op), seen: unpackRefs(row!.seen) };
}

export function checkContent(store: Store): void {
  store.projector.flush();
  for (const row of store.sql.prepare<{ size: number; manifest: Uint8Array }>('SELECT size, manifest FROM content').all()) {
    let after = -1;
    for (const chunk of unpackManifest(row.manifest)) {
      expect(store.chunks.has(chunk.hash)).toBe(true);
      expect(chunk.index, 'data chunks in increasing order').toBeGreaterThan(after);
      expect(chunk.size, `size of chunk ${chunk.index}`).toBe(Math.min(CHUNK_BYTES, row.size - chunk.index * CHUNK_BYTES));
      after = chunk.index;
    }
  }
}

class RolledBack extends Error {}

/**
 * Every name readdir lists (duplicate names and conflict copies too) resolves by a path walk to
 * the inode it was listed with, can be read, and can be removed: each removal is tried in a
 * transaction that is then rolled back, and must leave fewer names listed.
 */
export function checkNamesReachable(store: Store, fs: FileSystem): void {
  const visit = (dir: Uint8Array) => {
    const listed = fs.readdir(dir);
    // Cold, as a reopened store: enough lookups miss in the directory that it is read whole
    // (READAHEAD_MISSES), then every listed name resolves from what that read cached.
    store.projector.reset();
    const child = (name: Uint8Array) => Buffer.concat([dir, Buffer.from(dir.length > 1 ? '/' : ''), name]);
    for (let i = 0; i < READAHEAD_MISSES; i++) expect(fs.exists(child(Buffer.from(`.absent-${i}`)))).toBe(false);
    for (const { name, ino } of listed) expect(fs.lstat(child(name)).ino, `${Buffer.from(child(name)).toString()} resolves cold`).toBe(ino);
    for (const { name, ino, type } of listed) {
      const path = child(name);
      const shown = Buffer.from(path).toString();
      expect(fs.lstat(path).ino, `${shown} resolves to what readdir listed`).toBe(ino);
      if (type === 'file') {
        const fh = fs.open(path, 0);
        fs.read(fh, 0, 4096);
        fs.release(fh);
      }
      try {
        store.transaction(() => {
          const before = fs.readdir(dir).length;
          fs.rm(path, true);
          // The name may show again: another entry that had lost it to this one takes it back.
          expect(fs.readdir(dir).length, `${shown} removed`).toBeLessThan(before);
          throw new RolledBack();
        });
      } catch (error) {
        if (!(error instanceof RolledBack)) throw error;
      }
      if (type === 'dir') visit(path);
    }
  };
  visit(Buffer.from('/'));
}
