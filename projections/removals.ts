// Modify beats delete. A removal (unlink, rmdir, or the entry a rename replaces) names the content
// heads of the node it saw (`seen`); a setContent written to a file whose last name was already
// removed names those removals (`deletes`). A removal is *unseen-modified* when the node has a
// content head that is neither in its `seen` nor names it: an edit concurrent with the removal.
// Such a removal does not take the node's last name (the tree keeps the file where it was).
// Heads are a function of the op set, so this verdict is too; it can change when a setContent
// arrives, and then the tree is redone from the removal (see Projector). This table remembers
// each applied removal's verdict so that the change can be found.
import { assert, type LogStore, type Op, type Ref, type SqlAdapter, type SqlStatement, type Ts } from '../log/index.ts';

export interface Removal {
  /** the removal op's local id */
  op: number;
  ts: Ts;
  /** the node it takes a name of */
  node: number;
  /** the node's content heads the issuer saw */
  seen: readonly Ref[];
}

/**
 * The removal an op makes, if any: an unlink or rmdir, or a rename that replaces an entry (not an
 * exchange). `local` maps a ref to its local id.
 */
export function removalOf(op: Op, id: number, local: (ref: Ref) => number): Removal | undefined {
  if (op.kind === 'unlink' || op.kind === 'rmdir') return { op: id, ts: op.ts, node: local(op.node), seen: op.seen };
  if (op.kind === 'move' && op.otherNode !== null && !op.exchange) return { op: id, ts: op.ts, node: local(op.otherNode), seen: op.seen };
  return undefined;
}

export class Removals {
  private readonly log: LogStore;
  private readonly stmt: {
    heads: SqlStatement<{ op: number }>; record: SqlStatement; forget: SqlStatement;
    ofNode: SqlStatement<{ op: number; ts: Ts; unseen: number }>; took: SqlStatement<{ op: number }>;
  };

  constructor(sql: SqlAdapter, log: LogStore) {
    this.log = log;
    this.stmt = {
      heads: sql.prepare('SELECT op FROM heads WHERE node = ?'),
      record: sql.prepare('INSERT INTO removals (op, node, ts, unseen, took) VALUES (?, ?, ?, ?, ?)'),
      forget: sql.prepare('DELETE FROM removals WHERE op = ?'),
      ofNode: sql.prepare('SELECT op, ts, unseen FROM removals WHERE node = ?'),
      took: sql.prepare('SELECT op FROM removals WHERE node = ? AND took = 1 ORDER BY ts DESC LIMIT ?'),
    };
  }

  /** Whether the node has a content head the removal did not see, written without seeing it. */
  unseen(removal: Removal): boolean {
    const heads = this.stmt.heads.all(removal.node);
    if (heads.length === 0) return false;
    const seen = new Set(removal.seen.map((ref) => this.log.knownId(ref)));
    const ref = this.log.globalRef(removal.op);
    return heads.some(({ op }) => {
      if (seen.has(op)) return false;
      const head = this.log.get(op)!.op;
      return head.kind === 'setContent' && !head.deletes.includes(ref);
    });
  }

  /** Remembers an applied removal's verdict and whether it took the node's last name. */
  record(removal: Removal, unseen: boolean, took: boolean): void {
    this.stmt.record.run(removal.op, removal.node, removal.ts, unseen ? 1 : 0, took ? 1 : 0);
  }

  /** Drops the verdict of a tree op being undone (a no-op for ops that are not removals). */
  forget(op: number): void {
    this.stmt.forget.run(op);
  }

  /**
   * The timestamp of the earliest applied removal of `node` whose verdict the node's current heads
   * change, or undefined: the tree must be redone from there.
   */
  changed(node: number): Ts | undefined {
    let earliest: Ts | undefined;
    for (const row of this.stmt.ofNode.all(node)) {
      if (earliest !== undefined && row.ts >= earliest) continue;
      const removal = removalOf(this.log.get(row.op)!.op, row.op, (ref) => this.log.localId(ref));
      assert(removal && removal.node === node, `removal ${row.op} of node ${node} is not a removal of it`);
      if (this.unseen(removal) !== (row.unseen === 1)) earliest = row.ts;
    }
    return earliest;
  }

  /** The removals that took the node's last name, newest first, at most `limit`. */
  took(node: number, limit: number): number[] {
    return this.stmt.took.all(node, limit).map((row) => row.op);
  }
}
