// The SQLite floor of a whole run: the rows a ledgerfs run left in its store (the log, its
// history index, the projections) written again into a fresh store's tables (made by openStore,
// so the b-trees and indexes are the real ones) with multi-row prepared statements and no
// ledgerfs code in the loop. It is a lower bound on what the run's SQLite work can cost: ledgerfs
// also reads, and writes a node row in each transaction that touches it where the floor writes
// each final row once.
import Database from 'better-sqlite3';
import { decodeOp, encodeOp, opDigest, SQLITE_PARAMS_MAX } from '../log/index.ts';
import { openStore, PROJECTION_TABLES } from '../index.ts';

/** Rows per statement, as ledgerfs's own bulk writes use (log/bulk.ts). */
const ROWS_PER_STATEMENT = 64;
/** Log rows read per statement by the rebuild floor, as the log's scan reads them. */
const READ_PAGE_ROWS = 4096;

type Row = unknown[];

export class RowsFloor {
  /** Every row of every table of the source store, by table. */
  private readonly tables: Map<string, Row[]>;

  /** Reads every row of `file`, a closed store. */
  constructor(file: string) {
    const db = new Database(file, { readonly: true });
    try {
      const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
      this.tables = new Map(names.map((name) => [name, db.prepare(`SELECT * FROM ${name}`).raw(true).all() as Row[]]));
    } finally {
      db.close();
    }
  }

  /**
   * Seconds to write every row into a fresh store at `target`, the rows of each table split
   * evenly over `transactions` transactions (batched append writes each op's rows in its batch);
   * with `encode`, each op is also encoded and hashed, as the log's format requires.
   */
  append(target: string, transactions: number, options: { encode?: boolean } = {}): number {
    const db = freshStore(target);
    try {
      const tables = [...this.tables].filter(([, rows]) => rows.length > 0);
      const writers = new Map(tables.map(([name, rows]) => [name, rowWriter(db, name, rows[0]!.length)]));
      const ops = options.encode ? this.rows('ops').map((row) => decodeOp(row[2] as Uint8Array, true)) : [];
      const slice = <T>(rows: readonly T[], k: number) => rows.slice(Math.floor((rows.length * k) / transactions), Math.floor((rows.length * (k + 1)) / transactions));
      const start = process.hrtime.bigint();
      for (let k = 0; k < transactions; k++) {
        db.exec('BEGIN IMMEDIATE');
        // What the log's format asks of every op whoever writes it: its canonical bytes, and
        // their sha256 for the fingerprint.
        for (const op of slice(ops, k)) opDigest(encodeOp(op));
        for (const [name, rows] of tables) writers.get(name)!(slice(rows, k));
        db.exec('COMMIT');
      }
      return seconds(start);
    } finally {
      db.close();
    }
  }

  /**
   * Seconds for what a rebuild cannot avoid, in one transaction: read every op row in timestamp
   * order a page at a time, and write every projection row. The fresh store at `target` holds
   * the log already (not timed).
   */
  rebuild(target: string): number {
    const db = freshStore(target);
    try {
      const ops = this.rows('ops');
      const insertOps = rowWriter(db, 'ops', ops[0]?.length ?? 3);
      db.transaction(() => insertOps(ops))();
      const tables = Object.keys(PROJECTION_TABLES).map((name) => [name, this.rows(name)] as const).filter(([, rows]) => rows.length > 0);
      const writers = new Map(tables.map(([name, rows]) => [name, rowWriter(db, name, rows[0]!.length)]));
      db.exec(`DELETE FROM ${Object.keys(PROJECTION_TABLES).join('; DELETE FROM ')}`);
      const first = db.prepare(`SELECT ts, id, bytes FROM ops ORDER BY ts LIMIT ${READ_PAGE_ROWS}`).raw(true);
      const next = db.prepare(`SELECT ts, id, bytes FROM ops WHERE ts > ? ORDER BY ts LIMIT ${READ_PAGE_ROWS}`).raw(true);
      const start = process.hrtime.bigint();
      db.exec('BEGIN IMMEDIATE');
      let read = 0;
      for (let page = first.all() as Row[]; page.length > 0; page = page.length < READ_PAGE_ROWS ? [] : (next.all(page.at(-1)![0]) as Row[])) read += page.length;
      if (read !== ops.length) throw new Error(`the rebuild floor read ${read} of ${ops.length} op rows`);
      for (const [name, rows] of tables) writers.get(name)!(rows);
      db.exec('COMMIT');
      return seconds(start);
    } finally {
      db.close();
    }
  }

  private rows(table: string): Row[] {
    const rows = this.tables.get(table);
    if (!rows) throw new Error(`the source store has no table ${table}`);
    return rows;
  }
}

function freshStore(file: string): Database.Database {
  openStore({ file }).close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536');
  return db;
}

/** Writes rows into `table` (INSERT OR REPLACE: the fresh store has its root rows already). */
function rowWriter(db: Database.Database, table: string, columns: number): (rows: readonly Row[]) => void {
  const perStatement = Math.min(ROWS_PER_STATEMENT, Math.floor(SQLITE_PARAMS_MAX / columns));
  const tuple = `(${Array(columns).fill('?').join(', ')})`;
  const statements = new Map<number, Database.Statement>();
  const statement = (rows: number) => {
    let stmt = statements.get(rows);
    if (!stmt) statements.set(rows, (stmt = db.prepare(`INSERT OR REPLACE INTO ${table} VALUES ${Array(rows).fill(tuple).join(', ')}`)));
    return stmt;
  };
  return (rows) => {
    for (let at = 0; at < rows.length; at += perStatement) {
      const slice = rows.slice(at, at + perStatement);
      statement(slice.length).run(...slice.flat());
    }
  };
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
