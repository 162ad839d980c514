// The tree of entries, merged by undo-do-redo (Kleppmann et al. 2021). Every tree op records
// the before-image of each entry it changed; undoing restores them in reverse. Placement goes
// through one primitive so link and subdirectory counts stay right on do and undo alike.
import { Packr } from 'msgpackr';
import { assert, ROOT_ID, TRASH_ID, type NodeType, type Ts } from '../log/index.ts';
import { blankNode, type ProjectionRows } from './rows.ts';

export interface EntryRow {
  id: number;
  parent: number;
  name: Uint8Array;
  node: number;
  /** the node's type, copied from its create op */
  type: NodeType;
  ts: Ts;
}

/** Where a removed directory was, and the entry that takes it back there. */
export interface Revival {
  entry: EntryRow;
  parent: number;
  name: Uint8Array;
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
  private readonly rows: ProjectionRows;

  constructor(rows: ProjectionRows) {
    this.rows = rows;
  }

  entry(id: number): EntryRow | undefined {
    return this.rows.entry(id);
  }

  isDir(node: number): boolean {
    return this.rows.node(node)?.type === 'dir';
  }

  /**
   * The type of a link's target. Its create sorts before the link (the linker had seen it), so a
   * target not seen yet means the create is still in flight: 'file' stands in until the create
   * arrives and undo-do-redo replays the link after it.
   */
  linkType(node: number): NodeType {
    return (this.rows.node(node)?.type ?? 'file') as NodeType;
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

  isEmpty(dir: number): boolean {
    return !this.rows.hasChildren(dir);
  }

  /**
   * The removed directories that an entry placed in `dir` brings back, innermost first, each with
   * the place its removal took it from: `dir` if it is in the trash, then the directory it was
   * removed from if that is in the trash too, and so on. Empty when `dir` is not in the trash.
   */
  revival(dir: number): Revival[] {
    const chain: Revival[] = [];
    for (let entry = this.entry(dir); entry && entry.parent === TRASH_ID;) {
      assert(chain.length < DEPTH_MAX, `revival from ${dir} exceeded ${DEPTH_MAX} levels: cycle`);
      const from = this.removedFrom(entry);
      chain.push({ entry, ...from });
      entry = this.entry(from.parent);
    }
    return chain;
  }

  /**
   * Where an entry in the trash was before the op that put it there: that op's undo record, or,
   * when a checkpoint replaced the op, the place the checkpoint kept.
   */
  removedFrom(entry: EntryRow): { parent: number; name: Uint8Array; ts: Ts } {
    const undo = this.rows.treeOpUndo(entry.ts);
    const before = undo && decodeUndo(undo).find((b): b is [number, number, Uint8Array, Ts] => b[0] === entry.id && b.length === 4);
    const from = before ? { parent: before[1], name: before[2], ts: before[3] } : this.rows.removedFrom(entry.id);
    assert(from, `entry ${entry.id} is in the trash, but neither the op at ${entry.ts} nor the checkpoint says where from`);
    return from;
  }

  /** Puts removed directories back where they were (see revival), name and timestamp included. */
  revive(undo: Undo, chain: readonly Revival[]): void {
    for (const { entry, parent, name, ts } of chain) {
      // The trash holds only empty directories, so where one was removed from is never inside it.
      assert(!this.within(parent, entry.node), `removed directory ${entry.node} would come back inside itself`);
      this.place(undo, this.entry(entry.id)!, parent, name, ts);
    }
  }

  private count(entry: Pick<EntryRow, 'parent' | 'node' | 'type'>, sign: 1 | -1): void {
    if (entry.parent !== TRASH_ID) {
      const node = this.rows.node(entry.node) ?? blankNode(entry.node);
      node.links += sign;
      assert(node.links >= 0, `node ${entry.node} link count below zero`);
      this.rows.saveNode(node);
    }
    if (entry.type === 'dir') {
      const parent = this.rows.node(entry.parent) ?? blankNode(entry.parent);
      parent.subdirs += sign;
      assert(parent.subdirs >= 0, `node ${entry.parent} subdirectory count below zero`);
      this.rows.saveNode(parent);
    }
  }

  /** A new entry: its id is its op's, and the log holds each op once, so it cannot exist yet. */
  insert(undo: Undo, row: EntryRow): void {
    this.rows.saveEntry(row);
    this.count(row, 1);
    undo.push([row.id]);
  }

  place(undo: Undo, entry: EntryRow, parent: number, name: Uint8Array, ts: Ts): void {
    undo.push([entry.id, entry.parent, entry.name, entry.ts]);
    this.move(entry, parent, name, ts);
  }

  private move(entry: EntryRow, parent: number, name: Uint8Array, ts: Ts): void {
    this.count(entry, -1);
    const moved = { ...entry, parent, name, ts };
    this.rows.saveEntry(moved);
    this.count(moved, 1);
  }

  undo(undo: Undo): void {
    for (let i = undo.length - 1; i >= 0; i--) {
      const before = undo[i]!;
      const entry = this.entry(before[0]);
      assert(entry, `undo of missing entry ${before[0]}`);
      if (before.length === 1) {
        this.count(entry, -1);
        this.rows.deleteEntry(entry.id);
      } else {
        this.move(entry, before[1], before[2], before[3]);
      }
    }
  }
}
