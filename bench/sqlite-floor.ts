// The SQLite floor of ledgerfs's design: the statements one filesystem call runs against the
// store's own tables (made by openStore, so the b-trees and indexes are the real ones), issued
// as plain prepared statements with rows of the real sizes and no ledgerfs code in the loop.
// What a call costs above this is ledgerfs's JavaScript; what this costs above another library
// is the rows the design keeps (the op, its projections, the history index).
import Database from 'better-sqlite3';
import { assert, HASH_BYTES, NodeRole, TRASH_ID } from '../log/index.ts';
import { openStore } from '../index.ts';

/** Bytes of the values ledgerfs writes, as measured on its stores. */
const OP_BYTES = 141;
const UNDO_BYTES = 24;
const MANIFEST_BYTES = 40;

const blob = (bytes: number, fill: number) => Buffer.alloc(bytes, fill);
const ROLE_TREE = NodeRole.tree;
const ROLE_CONTENT = NodeRole.content;

export class SqliteFloor {
  private readonly db: Database.Database;
  private readonly stmt: Record<string, Database.Statement>;
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly nodeColumns: number;
  private nextId = 1_000_000;
  private clock = 0;

  /** `file`: a path that does not exist yet, or ':memory:'. */
  constructor(file: string) {
    if (file === ':memory:') {
      this.db = new Database(':memory:');
      const store = openStore({ file: ':memory:' });
      const tables = store.sql.prepare<{ sql: string }>("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'").all();
      store.close();
      for (const { sql } of tables) this.db.exec(sql);
    } else {
      openStore({ file }).close();
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
    }
    this.db.pragma('cache_size = -65536');
    this.nodeColumns = (this.db.prepare("SELECT count(*) AS n FROM pragma_table_info('nodes')").get() as { n: number }).n;
    const values = `(${Array(this.nodeColumns).fill('?').join(', ')})`;
    this.stmt = {
      lookup: this.db.prepare('SELECT * FROM entries WHERE parent = ? AND name = ? ORDER BY ts DESC, id DESC LIMIT 1'),
      node: this.db.prepare('SELECT * FROM nodes WHERE id = ?'),
      nodes2: this.db.prepare(`INSERT OR REPLACE INTO nodes VALUES ${values}, ${values}`),
      nodes1: this.db.prepare(`INSERT OR REPLACE INTO nodes VALUES ${values}`),
      entry: this.db.prepare('INSERT OR REPLACE INTO entries (id, parent, name, node, type, ts) VALUES (?, ?, ?, ?, ?, ?)'),
      treeOp: this.db.prepare('INSERT INTO tree_ops (ts, op, undo) VALUES (?, ?, ?)'),
      ops1: this.db.prepare('INSERT INTO ops (ts, id, bytes) VALUES (?, ?, ?)'),
      ops2: this.db.prepare('INSERT INTO ops (ts, id, bytes) VALUES (?, ?, ?), (?, ?, ?)'),
      nodeOps1: this.db.prepare('INSERT OR IGNORE INTO node_ops (node, role, ts, op) VALUES (?, ?, ?, ?)'),
      nodeOps2: this.db.prepare('INSERT OR IGNORE INTO node_ops (node, role, ts, op) VALUES (?, ?, ?, ?), (?, ?, ?, ?)'),
      entryOps: this.db.prepare('INSERT OR IGNORE INTO entry_ops (entry, ts, op) VALUES (?, ?, ?)'),
      parentOps: this.db.prepare('INSERT OR IGNORE INTO parent_ops (parent, ts, op) VALUES (?, ?, ?)'),
      meta: this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      chunk: this.db.prepare('INSERT OR IGNORE INTO chunks (hash, size, data) VALUES (?, ?, ?)'),
      arrive: this.db.prepare('DELETE FROM superseded WHERE op = ? RETURNING 1 AS one'),
      head: this.db.prepare('INSERT INTO heads (node, op, ts, size, manifest, deletes) VALUES (?, ?, ?, ?, ?, ?)'),
      content: this.db.prepare('INSERT INTO content (node, op, ts, size, manifest) VALUES (?, ?, ?, ?, ?) ON CONFLICT (node) DO UPDATE SET op = excluded.op, ts = excluded.ts, size = excluded.size, manifest = excluded.manifest WHERE excluded.ts > content.ts'),
      heads: this.db.prepare('SELECT * FROM heads WHERE node = ? ORDER BY ts DESC'),
      headDeletes: this.db.prepare('SELECT op, deletes FROM heads WHERE node = ?'),
      removal: this.db.prepare('INSERT INTO removals (op, node, ts, seen, kept) VALUES (?, ?, ?, ?, ?)'),
    };
    this.begin = this.db.prepare('BEGIN IMMEDIATE');
    this.commit = this.db.prepare('COMMIT');
  }

  private ts(): string {
    return `${(++this.clock).toString(16).padStart(12, '0')}.0000.01JD3Q4Z5X6Y7Z8A9B0C1D2E3F`;
  }

  private nodeRow(id: number, type: string, ts: string): unknown[] {
    const row = [id, type, null, 0, ts, 0o644, ts, 0, ts, 0, ts, 1, 0, ts, 1, 0, ts, ts, 1, 0];
    assert(row.length === this.nodeColumns, `the floor's node row has ${row.length} values; nodes has ${this.nodeColumns} columns`);
    return row;
  }

  private transaction(fn: () => void): void {
    this.begin.run();
    try {
      fn();
      this.commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  /** The rows of a create op (the new node and its parent's times, the entry, its undo, the index). */
  private createRows(parent: number, name: string, type: string, ts: string, id: number, ops: unknown[]): void {
    this.stmt.lookup!.get(parent, Buffer.from(name));
    this.stmt.node!.get(id);
    ops.push(ts, id, blob(OP_BYTES, 1));
    this.stmt.entry!.run(id, parent, Buffer.from(name), id, type, ts);
    this.stmt.treeOp!.run(ts, id, blob(UNDO_BYTES, 2));
    this.stmt.entryOps!.run(id, ts, id);
    this.stmt.parentOps!.run(parent, ts, id);
  }

  /** writeFile of a new file: a create and a setContent, committed together. */
  writeFile(parent: number, name: string, bytes: number): number {
    const id = this.nextId++;
    const content = this.nextId++;
    this.transaction(() => {
      const ts = this.ts();
      const contentTs = this.ts();
      const ops: unknown[] = [];
      this.createRows(parent, name, 'file', ts, id, ops);
      this.stmt.chunk!.run(blob(HASH_BYTES, id % 251), bytes, blob(bytes, 3));
      this.stmt.arrive!.get(content);
      this.stmt.head!.run(id, content, contentTs, bytes, blob(MANIFEST_BYTES, 4), null);
      this.stmt.nodes2!.run(...this.nodeRow(id, 'file', contentTs), ...this.nodeRow(parent, 'dir', ts));
      this.stmt.content!.run(id, content, contentTs, bytes, blob(MANIFEST_BYTES, 4));
      ops.push(contentTs, content, blob(OP_BYTES, 1));
      this.stmt.ops2!.run(...ops);
      this.stmt.nodeOps2!.run(id, ROLE_TREE, ts, id, id, ROLE_CONTENT, contentTs, content);
      this.stmt.meta!.run('fingerprint', blob(HASH_BYTES, 5));
    });
    return id;
  }

  mkdir(parent: number, name: string): number {
    const id = this.nextId++;
    this.transaction(() => {
      const ts = this.ts();
      const ops: unknown[] = [];
      this.createRows(parent, name, 'dir', ts, id, ops);
      this.stmt.nodes2!.run(...this.nodeRow(id, 'dir', ts), ...this.nodeRow(parent, 'dir', ts));
      this.stmt.ops1!.run(...ops);
      this.stmt.nodeOps1!.run(id, ROLE_TREE, ts, id);
      this.stmt.meta!.run('fingerprint', blob(HASH_BYTES, 5));
    });
    return id;
  }

  /** A rename within a directory to a free name: one move op. */
  rename(node: number, parent: number, to: string): void {
    this.transaction(() => {
      const ts = this.ts();
      this.stmt.lookup!.get(parent, Buffer.from(to));
      this.placeRows(node, parent, parent, to, ts);
    });
  }

  /** An unlink of a file's last name: the removal records the heads it saw; the entry goes to the trash. */
  unlink(node: number, parent: number, name: string): void {
    this.transaction(() => {
      const ts = this.ts();
      this.stmt.heads!.all(node);
      this.stmt.headDeletes!.all(node);
      this.stmt.removal!.run(this.nextId, node, ts, blob(16, 6), 0);
      this.placeRows(node, parent, TRASH_ID, name, ts);
    });
  }

  /** The rows of a tree op that moves a file's entry from `parent` to `into` (a move or a removal). */
  private placeRows(node: number, parent: number, into: number, name: string, ts: string): void {
    const id = this.nextId++;
    this.stmt.nodes2!.run(...this.nodeRow(node, 'file', ts), ...this.nodeRow(parent, 'dir', ts));
    this.stmt.entry!.run(node, into, Buffer.from(name), node, 'file', ts);
    this.stmt.treeOp!.run(ts, id, blob(UNDO_BYTES, 2));
    this.stmt.ops1!.run(ts, id, blob(OP_BYTES, 1));
    this.stmt.nodeOps1!.run(node, ROLE_TREE, ts, id);
    this.stmt.entryOps!.run(node, ts, id);
    this.stmt.parentOps!.run(parent, ts, id);
    this.stmt.meta!.run('fingerprint', blob(HASH_BYTES, 5));
  }

  close(): void {
    this.db.close();
  }
}
