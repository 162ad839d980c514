// Applies ops to the projection tables. Register ops commute (last writer wins per field);
// tree ops must take effect in timestamp order, so an op that sorts before tree ops already
// applied undoes them, applies, and redoes them (undo-do-redo). A removal's effect also depends
// on the node's content heads (modify beats delete, see removals.ts): a setContent that changes
// a removal's verdict redoes the tree from that removal. The result always equals a replay of
// the whole log in timestamp order, which rebuild() does literally.
import {
  assert, CheckpointError, formatRef, isTreeOp, SnapshotRequiredError, TRASH_ID,
  type LogStore, type Op, type Ref, type SqlAdapter, type StoredOp, type Ts,
} from '../log/index.ts';
import { loadState } from './checkpoint-state.ts';
import { ContentHeads } from './heads.ts';
import { Reader } from './reader.ts';
import { Registers } from './registers.ts';
import { packRefs, removalOf, Removals, type Removal } from './removals.ts';
import { ProjectionRows } from './rows.ts';
import { clearProjections, createProjectionSchema } from './schema.ts';
import { decodeUndo, encodeUndo, Tree, type EntryRow, type Undo } from './tree.ts';

export interface ProjectorOptions {
  /**
   * Where removal verdicts read content heads: the projector's own tables by default. A checkpoint
   * is built with the live store's, whose heads come from the whole op set (see compaction.ts).
   */
  verdictHeads?: SqlAdapter;
}

/** A directory in the trash and where it was removed from: [entry, parent, name, ts]. */
export type RemovedFrom = [entry: number, parent: number, name: Uint8Array, ts: Ts];

export class Projector {
  readonly sql: SqlAdapter;
  readonly log: LogStore;
  readonly tree: Tree;
  readonly registers: Registers;
  readonly rows: ProjectionRows;
  readonly heads: ContentHeads;
  readonly removals: Removals;
  /** True when the tables were built by an older layout and need a rebuild. */
  readonly stale: boolean;

  /** `sql` holds the projection tables; `log` supplies ids and ops (they may differ for verify). */
  constructor(sql: SqlAdapter, log: LogStore, options: ProjectorOptions = {}) {
    this.sql = sql;
    this.log = log;
    this.stale = createProjectionSchema(sql);
    this.rows = new ProjectionRows(sql);
    this.tree = new Tree(this.rows);
    this.registers = new Registers(this.rows);
    this.heads = new ContentHeads(sql);
    this.removals = new Removals(sql, log, options.verdictHeads);
  }

  /** Writes cached rows; called before commit and before any SQL read of the projections. */
  flush(): void {
    this.rows.flush();
  }

  /** A reader over these tables that first writes any rows this projector holds in memory. */
  reader(ids: Pick<LogStore, 'globalRef' | 'knownId'> = this.log): Reader {
    return new Reader(this.sql, this.rows, ids, () => this.flush());
  }

  /** Drops cached rows after a rollback. */
  reset(): void {
    this.rows.reset();
    this.removals.reset();
    this.heads.reset();
  }

  /**
   * Applies ops new to this projection, sorted by ts; any of them may sort before applied ones,
   * but not at or before the checkpoint, and none may change a removal the checkpoint settled
   * (SnapshotRequiredError: the op's maker must load the checkpoint and rebase it).
   */
  ingest(ops: readonly StoredOp[]): void {
    if (ops.length === 0) return;
    for (let i = 1; i < ops.length; i++) assert(ops[i - 1]!.op.ts < ops[i]!.op.ts, 'ingest needs ops sorted by ts');
    const checkpoint = this.log.checkpoint;
    const first = ops[0]!.op;
    if (checkpoint && first.ts <= checkpoint.ts) throw new SnapshotRequiredError(checkpoint, `op ${formatRef(first.origin, first.seq)} sorts inside the checkpoint but is not in it`);
    for (const { op, id } of ops) this.applyRegisters(op, id);
    let from = first.ts;
    // Registers are all applied: each written node's removals need checking once per batch.
    const written = new Map<Ref, Op>();
    for (const { op } of ops) if (op.kind === 'setContent' && !written.has(op.node)) written.set(op.node, op);
    for (const [node, op] of written) {
      const [changed] = this.removals.changed(this.log.localId(node));
      if (changed === undefined) continue;
      if (checkpoint && changed <= checkpoint.ts) throw new SnapshotRequiredError(checkpoint, `op ${formatRef(op.origin, op.seq)} would change a removal the checkpoint settled`);
      if (changed < from) from = changed;
    }
    this.redoFrom(from, ops.filter(({ op }) => isTreeOp(op)));
  }

  /** Undoes the applied tree ops at or after `from`, then applies them and `fresh` in ts order. */
  private redoFrom(from: Ts, fresh: readonly StoredOp[]): void {
    assert(from > this.floor, `redo from ${from} reaches into the checkpoint`);
    const undone = from <= this.rows.lastTreeTs ? this.rows.takeTreeOpsFrom(from) : [];
    for (const row of undone) {
      this.tree.undo(decodeUndo(row.undo));
      this.removals.forget(row.op);
    }
    const redo = [...fresh, ...undone.map((row) => this.log.get(row.op)!)];
    redo.sort((a, b) => (a.op.ts < b.op.ts ? -1 : 1));
    for (const { op, id } of redo) this.applyTree(op, id);
  }

  /** The checkpoint's cut ('' without one): the state at or before it never changes. */
  private get floor(): Ts {
    return this.log.checkpoint?.ts ?? '';
  }

  /**
   * Drops the projections and rebuilds them: the checkpoint's state if there is one, then the
   * log replayed in timestamp order, up to `until` if given.
   */
  rebuild(options: { until?: Ts; onProgress?: (done: number) => void } = {}): number {
    const { until, onProgress } = options;
    const checkpoint = this.log.checkpoint;
    if (checkpoint && until !== undefined && until < checkpoint.ts) throw new CheckpointError(`${until} is before the checkpoint at ${checkpoint.ts}: that history was compacted`);
    return this.sql.transaction(() => {
      clearProjections(this.sql);
      if (checkpoint) loadState(this.sql, this.log, this.log.checkpointPages());
      this.rows.reset(!checkpoint);
      this.removals.reset();
      this.heads.reset();
      let done = 0;
      for (const stored of this.log.scan()) {
        if (until !== undefined && stored.op.ts > until) break;
        this.apply(stored);
        if (++done % 65536 === 0) onProgress?.(done);
      }
      this.rows.flush();
      onProgress?.(done);
      return done;
    });
  }

  /**
   * Applies one op that sorts after every op applied so far (replay in timestamp order). Removals
   * the checkpoint settled keep the verdict it recorded (it was taken from the whole op set).
   */
  apply({ op, id }: StoredOp): void {
    this.applyRegisters(op, id);
    const [changed] = op.kind === 'setContent' ? this.removals.changed(this.log.localId(op.node)).filter((ts) => ts > this.floor) : [];
    if (changed !== undefined) this.redoFrom(changed, []);
    if (isTreeOp(op)) this.applyTree(op, id);
  }

  /** Where each directory now in the trash was removed from (a checkpoint keeps it). */
  removedDirectories(): RemovedFrom[] {
    this.flush();
    const trashed = this.sql.prepare<EntryRow>("SELECT * FROM entries WHERE parent = ? AND type = 'dir' ORDER BY id").all(TRASH_ID);
    return trashed.map((entry) => {
      const from = this.tree.removedFrom(entry);
      return [entry.id, from.parent, from.name, from.ts];
    });
  }

  /**
   * After the log's prefix up to `cut` became a checkpoint: drops the undo records of tree ops it
   * replaced (nothing can undo them now) and keeps where removed directories came from instead.
   */
  settle(cut: Ts, removed: readonly RemovedFrom[]): void {
    this.flush();
    this.sql.prepare('DELETE FROM tree_ops WHERE ts <= ?').run(cut);
    this.sql.exec('DELETE FROM removed_from');
    const insert = this.sql.prepare('INSERT INTO removed_from (entry, parent, name, ts) VALUES (?, ?, ?, ?)');
    for (const row of removed) insert.run(...row);
    this.reset();
  }

  private applyRegisters(op: Op, id: number): void {
    const local = (ref: string) => this.log.localId(ref);
    const r = this.registers;
    switch (op.kind) {
      case 'create':
        if (r.create(id, op, op.ts)) this.removals.noneFor(id);
        r.touch(local(op.parent), op.ts, true);
        return;
      case 'link':
        r.touch(local(op.node), op.ts, false);
        r.touch(local(op.parent), op.ts, true);
        return;
      case 'move':
        r.touch(local(op.node), op.ts, false);
        r.touch(local(op.from), op.ts, true);
        if (op.parent !== op.from) r.touch(local(op.parent), op.ts, true);
        if (op.otherNode) r.touch(local(op.otherNode), op.ts, false);
        return;
      case 'unlink':
      case 'rmdir':
        r.touch(local(op.node), op.ts, false);
        r.touch(local(op.parent), op.ts, true);
        return;
      case 'setContent': {
        const node = local(op.node);
        const first = this.rows.knownWithoutContent(node);
        r.setContent(node, id, op.size, op.manifest, op.ts);
        this.heads.apply({ node, op: id, ts: op.ts, size: op.size, manifest: op.manifest, deletes: packRefs(op.deletes) }, op.base.map(local), (base) => this.log.hasId(base), first);
        return;
      }
      case 'setAttr':
        r.setAttr(local(op.node), op, op.ts);
        return;
      case 'setXattr':
        r.setXattr(local(op.node), op.name, op.value, op.ts);
        return;
    }
  }

  private applyTree(op: Op, id: number): void {
    const undo: Undo = [];
    const t = this.tree;
    const local = (ref: string) => this.log.localId(ref);
    switch (op.kind) {
      case 'create':
        t.revive(undo, t.revival(local(op.parent)));
        t.insert(undo, { id, parent: local(op.parent), name: op.name, node: id, type: op.type, ts: op.ts });
        break;
      case 'link':
        t.revive(undo, t.revival(local(op.parent)));
        t.insert(undo, { id, parent: local(op.parent), name: op.name, node: local(op.node), type: t.linkType(local(op.node)), ts: op.ts });
        break;
      case 'move':
        this.move(undo, op, id);
        break;
      case 'unlink':
      case 'rmdir':
        this.remove(undo, t.entry(local(op.entry)), removalOf(op, id, local)!);
        break;
      default:
        assert(false, `${op.kind} is not a tree op`);
    }
    this.rows.recordTreeOp(op.ts, id, encodeUndo(undo));
  }

  /**
   * A removal moves a live entry to the trash, unless the entry is a directory that is not empty,
   * or it is the node's last name and the node has a content edit the removal did not see
   * (modify beats delete). A removal of a last name records its verdict.
   */
  private remove(undo: Undo, entry: EntryRow | undefined, removal: Removal): void {
    if (!entry || entry.parent === TRASH_ID || (entry.type === 'dir' && !this.tree.isEmpty(entry.node))) return;
    if (this.rows.node(entry.node)!.links === 1) {
      const kept = this.removals.keeps(removal);
      this.removals.record(removal, kept);
      if (kept) return;
    }
    this.tree.place(undo, entry, TRASH_ID, entry.name, removal.ts);
  }

  /**
   * A move that would put a directory inside itself is skipped (it stays in the log); so is an
   * exchange with an entry that was removed. A move into a removed directory brings it back. The
   * entry it replaces is removed by the rule of remove().
   */
  private move(undo: Undo, op: Op & { kind: 'move' }, id: number): void {
    const t = this.tree;
    const local = (ref: string) => this.log.localId(ref);
    const parent = local(op.parent);
    const entry = t.entry(local(op.entry));
    if (!entry || !t.isDir(parent)) return;
    const other = op.other === null ? undefined : t.entry(local(op.other));
    if (op.exchange) {
      if (!other || other.id === entry.id || entry.parent === TRASH_ID || other.parent === TRASH_ID) return;
      // Two entries of one name in one directory (concurrent ops made them): swapping them moves
      // nothing, and placing both at the op's one timestamp would leave which keeps the name to
      // the tie-break on local ids, which differ between replicas.
      if (entry.parent === other.parent && Buffer.compare(entry.name, other.name) === 0) return;
      if ((entry.type === 'dir' && t.within(other.parent, entry.node)) || (other.type === 'dir' && t.within(entry.parent, other.node))) return;
      const [entryParent, entryName] = [entry.parent, entry.name];
      t.place(undo, entry, other.parent, other.name, op.ts);
      t.place(undo, t.entry(other.id)!, entryParent, entryName, op.ts);
      return;
    }
    const revival = t.revival(parent);
    if (entry.type === 'dir' && [parent, ...revival.map((r) => r.parent)].some((dir) => t.within(dir, entry.node))) return;
    t.revive(undo, revival);
    const replaced = other && other.id !== entry.id && other.parent === parent && Buffer.compare(other.name, op.name) === 0;
    const removal = removalOf(op, id, local);
    if (removal) this.remove(undo, replaced ? other : undefined, removal);
    t.place(undo, t.entry(entry.id)!, parent, op.name, op.ts);
  }
}
