// Register state of nodes, merged by timestamp: each attribute keeps the value of the newest op
// that set it (last writer wins per field), so applying register ops commutes and needs no undo.
// An op touches only registers its own fields name (see spec/semantics.md), never ones it would
// have to find in the tree, which is what keeps them independent of tree undo-do-redo.
import { assert, tsMs, type CreateBody, type SetAttrBody, type Timespec, type Ts } from '../log/index.ts';
import { blankNode, type ProjectionRows } from './rows.ts';

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

type Field = 'mode' | 'uid' | 'gid';

export function tsTimespec(ts: Ts): Timespec {
  const ms = tsMs(ts);
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

const newer = (ts: Ts, current: Ts | null): boolean => current === null || ts > current;

function touchRow(row: NodeRow, ts: Ts, mtime: boolean): void {
  if (newer(ts, row.ctime_ts)) row.ctime_ts = ts;
  if (mtime && newer(ts, row.mtime_ts)) {
    [row.mtime_s, row.mtime_ns] = tsTimespec(ts);
    row.mtime_ts = ts;
  }
}

function setField(row: NodeRow, field: Field, value: number, ts: Ts): void {
  if (!newer(ts, row[`${field}_ts`])) return;
  row[field] = value;
  row[`${field}_ts`] = ts;
}

function setTime(row: NodeRow, which: 'atime' | 'mtime', value: Timespec, ts: Ts): void {
  if (!newer(ts, row[`${which}_ts`])) return;
  [row[`${which}_s`], row[`${which}_ns`]] = value;
  row[`${which}_ts`] = ts;
}

export class Registers {
  private readonly rows: ProjectionRows;

  constructor(rows: ProjectionRows) {
    this.rows = rows;
  }

  /** A node's row, blank if a register op arrived before the node's create. */
  private load(id: number): NodeRow {
    return this.rows.node(id) ?? blankNode(id);
  }

  /** ctime of a node (rename, link count change); ctime and mtime of a directory whose entries changed. */
  touch(id: number, ts: Ts, mtime: boolean): void {
    const row = this.load(id);
    touchRow(row, ts, mtime);
    this.rows.saveNode(row);
  }

  /** Applies a create; true when no op had touched the node before (it has no content, no removals). */
  create(id: number, op: CreateBody, ts: Ts): boolean {
    const existing = this.rows.node(id);
    const row = existing ?? blankNode(id);
    assert(row.type === null, `node ${id} created twice`);
    row.type = op.type;
    row.target = op.target;
    row.rdev = op.rdev;
    row.born_ts = ts;
    setField(row, 'mode', op.mode, ts);
    setField(row, 'uid', op.uid, ts);
    setField(row, 'gid', op.gid, ts);
    setTime(row, 'atime', tsTimespec(ts), ts);
    touchRow(row, ts, true);
    this.rows.saveNode(row);
    // A register op applied before its create made a row; no row means no content and no xattrs either.
    if (!existing) this.rows.bare(id);
    return !existing;
  }

  setAttr(id: number, op: SetAttrBody, ts: Ts): void {
    const row = this.load(id);
    if (op.mode !== null) setField(row, 'mode', op.mode, ts);
    if (op.uid !== null) setField(row, 'uid', op.uid, ts);
    if (op.gid !== null) setField(row, 'gid', op.gid, ts);
    if (op.atime !== null) setTime(row, 'atime', op.atime, ts);
    if (op.mtime !== null) setTime(row, 'mtime', op.mtime, ts);
    touchRow(row, ts, false);
    this.rows.saveNode(row);
  }

  setContent(id: number, opId: number, size: number, manifest: Uint8Array, ts: Ts): void {
    this.rows.queueContent(id, opId, ts, size, manifest);
    this.touch(id, ts, true);
  }

  setXattr(id: number, name: Uint8Array, value: Uint8Array | null, ts: Ts): void {
    this.rows.queueXattr(id, name, value, ts);
    this.touch(id, ts, false);
  }
}
