// Register state of nodes, merged by timestamp: each attribute keeps the value of the newest op
// that set it (last writer wins per field), so applying register ops commutes and needs no undo.
// An op touches only registers its own fields name (see spec/semantics.md), never ones it would
// have to find in the tree, which is what keeps them independent of tree undo-do-redo.
import { assert, tsMs, type CreateBody, type SetAttrBody, type SqlAdapter, type SqlStatement, type Timespec, type Ts } from '../log/index.ts';

export interface NodeRow {
  id: number;
  type: string | null;
  target: Uint8Array | null;
  rdev: number | null;
  born_ts: Ts | null;
  mode: number | null; mode_ts: Ts | null;
  uid: number | null; uid_ts: Ts | null;
  gid: number | null; gid_ts: Ts | null;
  atime_s: number | null; atime_ns: number | null; atime_ts: Ts | null;
  mtime_s: number | null; mtime_ns: number | null; mtime_ts: Ts | null;
  ctime_ts: Ts | null;
  links: number;
  subdirs: number;
}

const COLUMNS = ['type', 'target', 'rdev', 'born_ts', 'mode', 'mode_ts', 'uid', 'uid_ts', 'gid', 'gid_ts',
  'atime_s', 'atime_ns', 'atime_ts', 'mtime_s', 'mtime_ns', 'mtime_ts', 'ctime_ts'] as const;

type Field = 'mode' | 'uid' | 'gid';

export function tsTimespec(ts: Ts): Timespec {
  const ms = tsMs(ts);
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

const newer = (ts: Ts, current: Ts | null): boolean => current === null || ts > current;

export class Registers {
  private readonly stmt: {
    get: SqlStatement<NodeRow>; insert: SqlStatement; update: SqlStatement;
    getContent: SqlStatement<{ ts: Ts }>; putContent: SqlStatement;
    getXattr: SqlStatement<{ ts: Ts }>; putXattr: SqlStatement;
  };

  constructor(sql: SqlAdapter) {
    this.stmt = {
      get: sql.prepare('SELECT * FROM nodes WHERE id = ?'),
      insert: sql.prepare('INSERT INTO nodes (id) VALUES (?)'),
      update: sql.prepare(`UPDATE nodes SET ${COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`),
      getContent: sql.prepare('SELECT ts FROM content WHERE node = ?'),
      putContent: sql.prepare('INSERT OR REPLACE INTO content (node, op, ts, size, manifest) VALUES (?, ?, ?, ?, ?)'),
      getXattr: sql.prepare('SELECT ts FROM xattrs WHERE node = ? AND name = ?'),
      putXattr: sql.prepare('INSERT OR REPLACE INTO xattrs (node, name, value, ts) VALUES (?, ?, ?, ?)'),
    };
  }

  /** Reads a node row, creating a blank one if a register op arrived before the node's create. */
  private load(id: number): NodeRow {
    let row = this.stmt.get.get(id);
    if (!row) {
      this.stmt.insert.run(id);
      row = this.stmt.get.get(id);
      assert(row, `node ${id} not inserted`);
    }
    return row;
  }

  private save(row: NodeRow): void {
    this.stmt.update.run(...COLUMNS.map((c) => row[c]), row.id);
  }

  private static touch(row: NodeRow, ts: Ts, mtime: boolean): void {
    if (newer(ts, row.ctime_ts)) row.ctime_ts = ts;
    if (mtime && newer(ts, row.mtime_ts)) {
      [row.mtime_s, row.mtime_ns] = tsTimespec(ts);
      row.mtime_ts = ts;
    }
  }

  private static set(row: NodeRow, field: Field, value: number, ts: Ts): void {
    if (!newer(ts, row[`${field}_ts`])) return;
    row[field] = value;
    row[`${field}_ts`] = ts;
  }

  private static setTime(row: NodeRow, which: 'atime' | 'mtime', value: Timespec, ts: Ts): void {
    if (!newer(ts, row[`${which}_ts`])) return;
    [row[`${which}_s`], row[`${which}_ns`]] = value;
    row[`${which}_ts`] = ts;
  }

  /** ctime of a node (rename, link count change); ctime and mtime of a directory whose entries changed. */
  touch(id: number, ts: Ts, mtime: boolean): void {
    const row = this.load(id);
    Registers.touch(row, ts, mtime);
    this.save(row);
  }

  create(id: number, op: CreateBody, ts: Ts): void {
    const row = this.load(id);
    assert(row.type === null, `node ${id} created twice`);
    row.type = op.type;
    row.target = op.target;
    row.rdev = op.rdev;
    row.born_ts = ts;
    Registers.set(row, 'mode', op.mode, ts);
    Registers.set(row, 'uid', op.uid, ts);
    Registers.set(row, 'gid', op.gid, ts);
    Registers.setTime(row, 'atime', tsTimespec(ts), ts);
    Registers.touch(row, ts, true);
    this.save(row);
  }

  setAttr(id: number, op: SetAttrBody, ts: Ts): void {
    const row = this.load(id);
    if (op.mode !== null) Registers.set(row, 'mode', op.mode, ts);
    if (op.uid !== null) Registers.set(row, 'uid', op.uid, ts);
    if (op.gid !== null) Registers.set(row, 'gid', op.gid, ts);
    if (op.atime !== null) Registers.setTime(row, 'atime', op.atime, ts);
    if (op.mtime !== null) Registers.setTime(row, 'mtime', op.mtime, ts);
    Registers.touch(row, ts, false);
    this.save(row);
  }

  setContent(id: number, opId: number, size: number, manifest: Uint8Array, ts: Ts): void {
    const current = this.stmt.getContent.get(id);
    if (!current || ts > current.ts) this.stmt.putContent.run(id, opId, ts, size, manifest);
    this.touch(id, ts, true);
  }

  setXattr(id: number, name: Uint8Array, value: Uint8Array | null, ts: Ts): void {
    const current = this.stmt.getXattr.get(id, name);
    if (!current || ts > current.ts) this.stmt.putXattr.run(id, name, value, ts);
    this.touch(id, ts, false);
  }
}
