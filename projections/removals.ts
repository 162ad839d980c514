// Modify beats delete. A removal (unlink, rmdir, or the entry a rename replaces) names the content
// heads of the node it saw (`seen`); a setContent written to a file whose last name was already
// removed names those removals (`deletes`). A removal of a node's last name is *kept* when the
// node has a content head that is neither in its `seen` nor names it: an edit concurrent with the
// removal. Then the name stays (the tree keeps the file where it was). Heads are a function of the
// op set, so this verdict is too; it can change when a setContent arrives, and then the tree is
// redone from the removal (see Projector). The removals table remembers each applied removal of a
// last name with its verdict and what it saw, so that the change can be found; a removal of
// another name, or of nothing, has no verdict to remember.
import { Packr } from 'msgpackr';
import type { LogStore, Op, Ref, SqlAdapter, SqlStatement, Ts } from '../log/index.ts';

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

const packr = new Packr({ useRecords: false });

/** A list of refs as stored in the projections: msgpack, or null when empty. */
export function packRefs(refs: readonly Ref[]): Uint8Array | null {
  return refs.length === 0 ? null : packr.pack(refs);
}

export function unpackRefs(bytes: Uint8Array | null): Ref[] {
  return bytes === null ? [] : packr.unpack(bytes) as Ref[];
}

/** A content head as a verdict sees it: the setContent's ref and the removals it names. */
export interface Head {
  ref: Ref;
  deletes: ReadonlySet<Ref>;
}

/** Nodes remembered as having no removal rows, up to this many; then the set starts over. */
const NONE_MAX = 100_000;

export class Removals {
  private readonly ids: Pick<LogStore, 'globalRef'>;
  /**
   * Nodes known to have no removal rows: every setContent asks about its node twice (changed,
   * took), and almost every node has never lost its last name. Only record() adds rows, so a
   * node leaves the set there; a rollback or a rewrite of the table clears it (reset).
   */
  private readonly none = new Set<number>();
  private readonly stmt: {
    heads: SqlStatement<{ op: number; deletes: Uint8Array | null }>; record: SqlStatement; forget: SqlStatement;
    ofNode: SqlStatement<{ op: number; ts: Ts; seen: Uint8Array | null; kept: number }>; took: SqlStatement<{ op: number }>;
  };

  /**
   * `sql` holds the removals table; verdicts read the content heads in `headsSql` (the same
   * database, but for a checkpoint being built: there the verdicts come from the whole op set).
   */
  constructor(sql: SqlAdapter, ids: Pick<LogStore, 'globalRef'>, headsSql: SqlAdapter = sql) {
    this.ids = ids;
    this.stmt = {
      heads: headsSql.prepare('SELECT op, deletes FROM heads WHERE node = ?'),
      record: sql.prepare('INSERT INTO removals (op, node, ts, seen, kept) VALUES (?, ?, ?, ?, ?)'),
      forget: sql.prepare('DELETE FROM removals WHERE op = ?'),
      ofNode: sql.prepare('SELECT op, ts, seen, kept FROM removals WHERE node = ?'),
      took: sql.prepare('SELECT op FROM removals WHERE node = ? AND kept = 0 ORDER BY ts DESC LIMIT ?'),
    };
  }

  /** Whether the node has a content head the removal did not see, written without seeing it. */
  keeps(removal: Removal, heads: readonly Head[] = this.heads(removal.node)): boolean {
    const seen = new Set(removal.seen);
    const ref = this.ids.globalRef(removal.op);
    return heads.some((head) => !seen.has(head.ref) && !head.deletes.has(ref));
  }

  private heads(node: number): Head[] {
    return this.stmt.heads.all(node).map((head) => ({ ref: this.ids.globalRef(head.op), deletes: new Set(unpackRefs(head.deletes)) }));
  }

  private removal(row: { op: number; ts: Ts; seen: Uint8Array | null }, node: number): Removal {
    return { op: row.op, ts: row.ts, node, seen: unpackRefs(row.seen) };
  }

  /** Remembers the verdict of an applied removal of a node's last name: kept, or taken. */
  record(removal: Removal, kept: boolean): void {
    this.none.delete(removal.node);
    this.stmt.record.run(removal.op, removal.node, removal.ts, packRefs(removal.seen), kept ? 1 : 0);
  }

  /** Drops the verdict of a tree op being undone (a no-op for ops that are not removals). */
  forget(op: number): void {
    this.stmt.forget.run(op);
  }

  /**
   * The timestamps of the applied removals of `node` whose verdict the node's current heads
   * change, oldest first: the tree must be redone from the first.
   */
  changed(node: number): Ts[] {
    if (this.none.has(node)) return [];
    const rows = this.stmt.ofNode.all(node);
    if (rows.length === 0) {
      this.noneFor(node);
      return [];
    }
    const heads = this.heads(node);
    return rows.filter((row) => this.keeps(this.removal(row, node), heads) !== (row.kept === 1)).map((row) => row.ts).sort();
  }

  /** The removals that took the node's last name, newest first, at most `limit`. */
  took(node: number, limit: number): number[] {
    return this.none.has(node) ? [] : this.stmt.took.all(node, limit).map((row) => row.op);
  }

  /** Remembers that `node` has no removal rows (a node created just now, or one asked about). */
  noneFor(node: number): void {
    if (this.none.size >= NONE_MAX) this.none.clear();
    this.none.add(node);
  }

  /** Forgets what it knows (after a rollback, or when the table was rewritten). */
  reset(): void {
    this.none.clear();
  }
}
