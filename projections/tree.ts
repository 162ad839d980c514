// The tree of entries, merged by undo-do-redo (Kleppmann et al. 2021). Every tree op records
// the before-image of each entry it changed; undoing restores them in reverse. Placement goes
// through one primitive so link and subdirectory counts stay right on do and undo alike.
import { Packr } from 'msgpackr';
import { assert, ROOT_ID, TRASH_ID, type SqlAdapter, type SqlStatement, type Ts } from '../log/index.ts';

export interface EntryRow {
  id: number;
  parent: number;
  name: Uint8Array;
  node: number;
  dir: number;
  ts: Ts;
}

/** [entry id, parent, name, ts] before the op, or [entry id] when the op created the entry. */
type Before = [number] | [number, number, Uint8Array, Ts];
export type Undo = Before[];

const packr = new Packr({ useRecords: false });
export const encodeUndo = (undo: Undo): Uint8Array => packr.pack(undo);
export const decodeUndo = (bytes: Uint8Array): Undo => packr.unpack(bytes) as Undo;

/** Far more than any real depth; reaching it means the tree has a cycle, which is a bug. */
const DEPTH_MAX = 1_000_000;

export class Tree {
  private readonly stmt: {
    get: SqlStatement<EntryRow>; insert: SqlStatement; place: SqlStatement; remove: SqlStatement;
    links: SqlStatement; subdirs: SqlStatement; type: SqlStatement<{ type: string | null }>;
  };

  constructor(sql: SqlAdapter) {
    this.stmt = {
      get: sql.prepare('SELECT * FROM entries WHERE id = ?'),
      insert: sql.prepare('INSERT INTO entries (id, parent, name, node, dir, ts) VALUES (?, ?, ?, ?, ?, ?)'),
      place: sql.prepare('UPDATE entries SET parent = ?, name = ?, ts = ? WHERE id = ?'),
      remove: sql.prepare('DELETE FROM entries WHERE id = ?'),
      links: sql.prepare('UPDATE nodes SET links = links + ? WHERE id = ?'),
      subdirs: sql.prepare('UPDATE nodes SET subdirs = subdirs + ? WHERE id = ?'),
      type: sql.prepare('SELECT type FROM nodes WHERE id = ?'),
    };
  }

  entry(id: number): EntryRow | undefined {
    return this.stmt.get.get(id);
  }

  isDir(node: number): boolean {
    return this.stmt.type.get(node)?.type === 'dir';
  }

  /** True when `node` is `ancestor` or lies below it. Directory entries share their node's id. */
  within(node: number, ancestor: number): boolean {
    let current = node;
    for (let depth = 0; depth < DEPTH_MAX; depth++) {
      if (current === ancestor) return true;
      if (current === ROOT_ID || current === TRASH_ID) return false;
      const entry = this.entry(current);
      if (!entry) return false;
      current = entry.parent;
    }
    assert(false, `tree walk from ${node} exceeded ${DEPTH_MAX} levels: cycle`);
  }

  private count(entry: Pick<EntryRow, 'parent' | 'node' | 'dir'>, sign: 1 | -1): void {
    if (entry.parent !== TRASH_ID) this.stmt.links.run(sign, entry.node);
    if (entry.dir) this.stmt.subdirs.run(sign, entry.parent);
  }

  insert(undo: Undo, row: EntryRow): void {
    assert(!this.entry(row.id), `entry ${row.id} created twice`);
    this.stmt.insert.run(row.id, row.parent, row.name, row.node, row.dir, row.ts);
    this.count(row, 1);
    undo.push([row.id]);
  }

  place(undo: Undo, entry: EntryRow, parent: number, name: Uint8Array, ts: Ts): void {
    undo.push([entry.id, entry.parent, entry.name, entry.ts]);
    this.move(entry, parent, name, ts);
  }

  private move(entry: EntryRow, parent: number, name: Uint8Array, ts: Ts): void {
    this.count(entry, -1);
    this.stmt.place.run(parent, name, ts, entry.id);
    this.count({ parent, node: entry.node, dir: entry.dir }, 1);
  }

  undo(undo: Undo): void {
    for (let i = undo.length - 1; i >= 0; i--) {
      const before = undo[i]!;
      const entry = this.entry(before[0]);
      assert(entry, `undo of missing entry ${before[0]}`);
      if (before.length === 1) {
        this.count(entry, -1);
        this.stmt.remove.run(entry.id);
      } else {
        this.move(entry, before[1], before[2], before[3]);
      }
    }
  }
}
