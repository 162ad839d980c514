// Content heads. A setContent names the content it was based on; the heads of a node are its
// setContent ops that no other names as a base. One head is the ordinary case. More than one means
// concurrent edits: the newest keeps the path (the content register) and every other head is
// shown beside it as a conflict copy until an edit based on it supersedes it. Heads are a
// function of the set of ops, whatever order they arrive in: a base that has not arrived yet is
// remembered as superseded, and arrives as no head.
import type { SqlAdapter, SqlStatement, Ts } from '../log/index.ts';

export interface HeadRow {
  node: number;
  op: number;
  ts: Ts;
  size: number;
  manifest: Uint8Array;
  /** the op's deletes, msgpack refs (see removals.ts), null when it names none */
  deletes: Uint8Array | null;
}

export class ContentHeads {
  private readonly stmt: {
    insert: SqlStatement; remove: SqlStatement<{ one: number }>; count: SqlStatement<{ n: number }>;
    supersede: SqlStatement; arrive: SqlStatement<{ one: number }>; mark: SqlStatement; unmark: SqlStatement;
    anySuperseded: SqlStatement<{ one: number }>; anyConflicted: SqlStatement<{ one: number }>;
  };
  /**
   * Whether the superseded and conflicted tables are empty, as last read or kept since (null:
   * unknown). Both are empty unless edits were concurrent, and while they are, a setContent whose
   * base was the node's head needs neither table: it leaves the node one head.
   */
  private noneSuperseded: boolean | null = null;
  private noneConflicted: boolean | null = null;

  constructor(sql: SqlAdapter) {
    this.stmt = {
      insert: sql.prepare('INSERT INTO heads (node, op, ts, size, manifest, deletes) VALUES (?, ?, ?, ?, ?, ?)'),
      remove: sql.prepare('DELETE FROM heads WHERE node = ? AND op = ? RETURNING 1 AS one'),
      count: sql.prepare('SELECT count(*) AS n FROM heads WHERE node = ?'),
      supersede: sql.prepare('INSERT OR IGNORE INTO superseded (op) VALUES (?)'),
      arrive: sql.prepare('DELETE FROM superseded WHERE op = ? RETURNING 1 AS one'),
      mark: sql.prepare('INSERT OR IGNORE INTO conflicted (node) VALUES (?)'),
      unmark: sql.prepare('DELETE FROM conflicted WHERE node = ?'),
      anySuperseded: sql.prepare('SELECT 1 AS one FROM superseded LIMIT 1'),
      anyConflicted: sql.prepare('SELECT 1 AS one FROM conflicted LIMIT 1'),
    };
  }

  /** Forgets what is known of the tables (a rollback, or a rebuild that rewrote them). */
  reset(): void {
    this.noneSuperseded = null;
    this.noneConflicted = null;
  }

  /**
   * Applies a setContent; `arrived(op)` says whether a base op has been applied already. `first`:
   * the node is known to have had no setContent applied, so no heads and no conflict to count.
   */
  apply(head: HeadRow, bases: readonly number[], arrived: (op: number) => boolean, first = false): void {
    let removed = 0;
    for (const base of bases) {
      if (this.stmt.remove.get(head.node, base) !== undefined) removed++;
      else if (!arrived(base)) {
        this.stmt.supersede.run(base);
        this.noneSuperseded = false;
      }
    }
    this.noneSuperseded ??= this.stmt.anySuperseded.get() === undefined;
    if (this.noneSuperseded || this.stmt.arrive.get(head.op) === undefined) this.stmt.insert.run(head.node, head.op, head.ts, head.size, head.manifest, head.deletes);
    if (first) return;
    this.noneConflicted ??= this.stmt.anyConflicted.get() === undefined;
    // No node had two heads, and this one lost one: it had one and has one again.
    if (this.noneConflicted && removed > 0) return;
    if (this.stmt.count.get(head.node)!.n > 1) {
      this.stmt.mark.run(head.node);
      this.noneConflicted = false;
    } else if (!this.noneConflicted) this.stmt.unmark.run(head.node);
  }
}
