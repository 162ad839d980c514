// The node index: for every op, the nodes it touches and the entries it names, keyed by node (or
// entry) and timestamp. It is derived from each op alone (no tree state), so it is written with
// the op in the same transaction and never needs undo-do-redo. History (a file's ops, its path
// and content at a time, blame, diff) reads it instead of replaying the log.
import { BulkWriter } from './bulk.ts';
import type { Ts } from './hlc.ts';
import type { Op } from './op.ts';
import type { SqlAdapter, SqlStatement, SqlValue } from './sql.ts';

/** What an op did to a node: named or unnamed it (tree ops), wrote its content, set attributes. */
export const NodeRole = { tree: 0, content: 1, attr: 2 } as const;
export type NodeRole = (typeof NodeRole)[keyof typeof NodeRole];

export const NODE_INDEX_SCHEMA = `
CREATE TABLE IF NOT EXISTS node_ops (node INTEGER NOT NULL, role INTEGER NOT NULL, ts TEXT NOT NULL, op INTEGER NOT NULL, PRIMARY KEY (node, role, ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entry_ops (entry INTEGER NOT NULL, ts TEXT NOT NULL, op INTEGER NOT NULL, PRIMARY KEY (entry, ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS parent_ops (parent INTEGER NOT NULL, ts TEXT NOT NULL, op INTEGER NOT NULL, PRIMARY KEY (parent, ts)) WITHOUT ROWID;
`;

export type IndexRows = { node: SqlValue[][]; entry: SqlValue[][]; parent: SqlValue[][] };

/**
 * The index rows of one op with local id `id`: `local` turns a ref into a local id. A create or
 * link makes an entry whose id is the op's own; a move names `entry` and trashes `other`.
 */
export function indexRows(op: Op, id: number, local: (ref: string) => number, rows: IndexRows): void {
  const node = (ref: string, role: NodeRole) => rows.node.push([local(ref), role, op.ts, id]);
  const entry = (entryId: number) => rows.entry.push([entryId, op.ts, id]);
  const parent = (ref: string) => rows.parent.push([local(ref), op.ts, id]);
  switch (op.kind) {
    case 'create':
      rows.node.push([id, NodeRole.tree, op.ts, id]);
      entry(id);
      parent(op.parent);
      return;
    case 'link':
      node(op.node, NodeRole.tree);
      entry(id);
      parent(op.parent);
      return;
    case 'move':
      node(op.node, NodeRole.tree);
      entry(local(op.entry));
      parent(op.parent);
      if (op.from !== op.parent) parent(op.from);
      if (op.other !== null) entry(local(op.other));
      if (op.otherNode !== null && op.otherNode !== op.node) node(op.otherNode, NodeRole.tree);
      return;
    case 'unlink':
    case 'rmdir':
      node(op.node, NodeRole.tree);
      entry(local(op.entry));
      parent(op.parent);
      return;
    case 'setContent':
      node(op.node, NodeRole.content);
      return;
    case 'setAttr':
    case 'setXattr':
      node(op.node, NodeRole.attr);
  }
}

export class NodeIndex {
  private readonly writers: { [K in keyof IndexRows]: BulkWriter };
  private pending: IndexRows = { node: [], entry: [], parent: [] };
  private readonly stmt: {
    latest: SqlStatement<{ op: number }>; entryLatest: SqlStatement<{ op: number }>; touched: SqlStatement<{ n: number }>; opsIn: SqlStatement<{ op: number; ts: Ts }>;
  };
  /** opsOf's statement per set of roles (history asks the same few again and again) */
  private readonly opsOfStmts = new Map<string, SqlStatement<{ op: number; ts: Ts }>>();
  readonly sql: SqlAdapter;

  constructor(sql: SqlAdapter) {
    this.sql = sql;
    // A pk conflict is one op naming the same node twice (a move onto another link of itself).
    this.writers = {
      node: new BulkWriter(sql, 'INSERT OR IGNORE INTO node_ops (node, role, ts, op)', 4),
      entry: new BulkWriter(sql, 'INSERT OR IGNORE INTO entry_ops (entry, ts, op)', 3),
      parent: new BulkWriter(sql, 'INSERT OR IGNORE INTO parent_ops (parent, ts, op)', 3),
    };
    this.stmt = {
      latest: sql.prepare('SELECT op FROM node_ops WHERE node = ? AND role = ? AND ts <= ? ORDER BY ts DESC LIMIT 1'),
      entryLatest: sql.prepare('SELECT op FROM entry_ops WHERE entry = ? AND ts <= ? ORDER BY ts DESC LIMIT 1'),
      touched: sql.prepare('SELECT count(*) AS n FROM (SELECT 1 FROM node_ops WHERE node = ? AND ts > ? AND ts <= ? LIMIT 1)'),
      opsIn: sql.prepare('SELECT op, ts FROM parent_ops WHERE parent = ? AND ts > ? AND ts <= ? ORDER BY ts LIMIT ?'),
    };
  }

  add(op: Op, id: number, local: (ref: string) => number): void {
    indexRows(op, id, local, this.pending);
  }

  flush(): void {
    for (const key of ['node', 'entry', 'parent'] as const) {
      if (this.pending[key].length === 0) continue;
      this.writers[key].write(this.pending[key]);
      this.pending[key] = [];
    }
  }

  reset(): void {
    this.pending = { node: [], entry: [], parent: [] };
  }

  /** Drops the rows of ops at or before `cut` (compaction), or all of them. */
  drop(cut?: Ts): void {
    this.flush();
    for (const table of ['node_ops', 'entry_ops', 'parent_ops']) {
      if (cut === undefined) this.sql.exec(`DELETE FROM ${table}`);
      else this.sql.prepare(`DELETE FROM ${table} WHERE ts <= ?`).run(cut);
    }
  }

  /** The newest op of `role` on `node` at or before `until`. */
  latest(node: number, role: NodeRole, until: Ts): number | undefined {
    this.flush();
    return this.stmt.latest.get(node, role, until)?.op;
  }

  /** The newest op that named or removed entry `entry` at or before `until`. */
  entryLatest(entry: number, until: Ts): number | undefined {
    this.flush();
    return this.stmt.entryLatest.get(entry, until)?.op;
  }

  /** Whether any op in (after, until] touched `node`. */
  touched(node: number, after: Ts, until: Ts): boolean {
    this.flush();
    return this.stmt.touched.get(node, after, until)!.n > 0;
  }

  /** Up to `limit` ops touching `node` (or, with `parent`, naming entries in it) in (after, until], in ts order. */
  opsOf(node: number, after: Ts, until: Ts, limit: number, roles: readonly NodeRole[] = [NodeRole.tree, NodeRole.content, NodeRole.attr]): Array<{ op: number; ts: Ts }> {
    this.flush();
    const key = roles.join(', ');
    let stmt = this.opsOfStmts.get(key);
    if (!stmt) {
      stmt = this.sql.prepare<{ op: number; ts: Ts }>(`SELECT op, ts FROM node_ops WHERE node = ? AND role IN (${key}) AND ts > ? AND ts <= ? ORDER BY ts LIMIT ?`);
      this.opsOfStmts.set(key, stmt);
    }
    return stmt.all(node, after, until, limit);
  }

  /** Up to `limit` ops that named an entry in directory `parent` (or moved one out) in (after, until]. */
  opsIn(parent: number, after: Ts, until: Ts, limit: number): Array<{ op: number; ts: Ts }> {
    this.flush();
    return this.stmt.opsIn.all(parent, after, until, limit);
  }
}
