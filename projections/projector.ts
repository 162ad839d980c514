// Applies ops to the projection tables. Register ops commute (last writer wins per field);
// tree ops must take effect in timestamp order, so an op that sorts before tree ops already
// applied undoes them, applies, and redoes them (undo-do-redo). The result always equals a
// replay of the whole log in timestamp order, which rebuild() does literally.
import { assert, isTreeOp, type LogStore, type Op, type SqlAdapter, type StoredOp, type Ts, TRASH_ID } from '../log/index.ts';
import { ContentHeads } from './heads.ts';
import { Reader } from './reader.ts';
import { Registers } from './registers.ts';
import { ProjectionRows } from './rows.ts';
import { clearProjections, createProjectionSchema } from './schema.ts';
import { decodeUndo, encodeUndo, Tree, type Undo } from './tree.ts';

export class Projector {
  readonly sql: SqlAdapter;
  readonly log: LogStore;
  readonly tree: Tree;
  readonly registers: Registers;
  readonly rows: ProjectionRows;
  readonly heads: ContentHeads;

  /** `sql` holds the projection tables; `log` supplies ids and ops (they may differ for verify). */
  constructor(sql: SqlAdapter, log: LogStore) {
    this.sql = sql;
    this.log = log;
    createProjectionSchema(sql);
    this.rows = new ProjectionRows(sql);
    this.tree = new Tree(this.rows);
    this.registers = new Registers(this.rows);
    this.heads = new ContentHeads(sql);
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
  }

  /** Applies ops new to this projection, sorted by ts; any of them may sort before applied ones. */
  ingest(ops: readonly StoredOp[]): void {
    if (ops.length === 0) return;
    for (let i = 1; i < ops.length; i++) assert(ops[i - 1]!.op.ts < ops[i]!.op.ts, 'ingest needs ops sorted by ts');
    const first = ops[0]!.op.ts;
    const undone = first < this.rows.lastTreeTs ? this.rows.takeTreeOpsAfter(first) : [];
    for (const row of undone) this.tree.undo(decodeUndo(row.undo));
    for (const { op, id } of ops) this.applyRegisters(op, id);
    const redo = [...ops.filter(({ op }) => isTreeOp(op)), ...undone.map((row) => this.log.get(row.op)!)];
    redo.sort((a, b) => (a.op.ts < b.op.ts ? -1 : 1));
    for (const { op, id } of redo) this.applyTree(op, id);
  }

  /** Drops the projections and replays the log in timestamp order, up to `until` if given. */
  rebuild(options: { until?: Ts; onProgress?: (done: number) => void } = {}): number {
    const { until, onProgress } = options;
    return this.sql.transaction(() => {
      clearProjections(this.sql);
      this.rows.reset(true);
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

  /** Applies one op that sorts after every op applied so far (replay in timestamp order). */
  apply({ op, id }: StoredOp): void {
    this.applyRegisters(op, id);
    if (isTreeOp(op)) this.applyTree(op, id);
  }

  private applyRegisters(op: Op, id: number): void {
    const local = (ref: string) => this.log.localId(ref);
    const r = this.registers;
    switch (op.kind) {
      case 'create':
        r.create(id, op, op.ts);
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
        r.setContent(node, id, op.size, op.manifest, op.ts);
        this.heads.apply({ node, op: id, ts: op.ts, size: op.size, manifest: op.manifest }, op.base.map(local), (base) => this.log.hasId(base));
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
        t.insert(undo, { id, parent: local(op.parent), name: op.name, node: id, type: op.type, ts: op.ts });
        break;
      case 'link':
        t.insert(undo, { id, parent: local(op.parent), name: op.name, node: local(op.node), type: t.linkType(local(op.node)), ts: op.ts });
        break;
      case 'move':
        this.move(undo, op, local(op.entry), local(op.parent), op.other === null ? null : local(op.other));
        break;
      case 'unlink':
      case 'rmdir': {
        const entry = t.entry(local(op.entry));
        if (entry && entry.parent !== TRASH_ID) t.place(undo, entry, TRASH_ID, entry.name, op.ts);
        break;
      }
      default:
        assert(false, `${op.kind} is not a tree op`);
    }
    this.rows.recordTreeOp(op.ts, id, encodeUndo(undo));
  }

  /** A move that would put a directory inside itself is skipped (it stays in the log). */
  private move(undo: Undo, op: Op & { kind: 'move' }, entryId: number, parent: number, otherId: number | null): void {
    const t = this.tree;
    const entry = t.entry(entryId);
    if (!entry || !t.isDir(parent)) return;
    const other = otherId === null ? undefined : t.entry(otherId);
    if (op.exchange) {
      if (!other || other.id === entry.id) return;
      if ((entry.type === 'dir' && t.within(other.parent, entry.node)) || (other.type === 'dir' && t.within(entry.parent, other.node))) return;
      const [entryParent, entryName] = [entry.parent, entry.name];
      t.place(undo, entry, other.parent, other.name, op.ts);
      t.place(undo, t.entry(other.id)!, entryParent, entryName, op.ts);
      return;
    }
    if (entry.type === 'dir' && t.within(parent, entry.node)) return;
    if (other && other.id !== entry.id && other.parent === parent && Buffer.compare(other.name, op.name) === 0) {
      t.place(undo, other, TRASH_ID, other.name, op.ts);
    }
    t.place(undo, t.entry(entryId)!, parent, op.name, op.ts);
  }
}
