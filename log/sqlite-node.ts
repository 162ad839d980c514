// SqlAdapter over better-sqlite3: a file (WAL, synchronous=NORMAL: a commit survives a process
// crash, an OS crash may lose the last transactions but never corrupts) or ':memory:'.
import Database from 'better-sqlite3';
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { SQLITE_PARAMS_MAX } from './limits.ts';
import type { SqlAdapter, SqlStatement, SqlValue } from './sql.ts';

export interface NodeSqliteOptions {
  /** Open an existing file so that nothing can be written to it. */
  readonly?: boolean;
  /**
   * Group commit: transactions commit together at most this many milliseconds after the first
   * of them, or at sync(). 0, the default, commits each transaction at once.
   */
  commitDelayMs?: number;
  /**
   * WAL pages that trigger a checkpoint (SQLite's default 1000). A checkpoint writes each page
   * once however many commits rewrote it, and syncs twice: a server committing many small
   * transactions spends less per commit with fewer, larger checkpoints (and a larger WAL file).
   */
  checkpointPages?: number;
}

export class NodeSqlite implements SqlAdapter {
  readonly db: Database.Database;
  readonly file: string | null;
  readonly paramsMax = SQLITE_PARAMS_MAX;
  private readonly commitDelayMs: number;
  private depth = 0;
  private groupTimer: ReturnType<typeof setTimeout> | null = null;
  private syncAfter = false;
  /** Each part of a store asks for its tables at open: one statement, prepared once. */
  private tableStmt: Database.Statement | null = null;

  /**
   * `readonly`: an existing file, opened so that nothing can be written to it. `check` looks at
   * an existing file on this connection before anything could write to it (WAL mode is set
   * after it) and may refuse it by throwing: one connection, so the file's schema is read once.
   */
  constructor(file: string | ':memory:', options: NodeSqliteOptions = {}, check?: (sql: NodeSqlite) => void) {
    const readonly = options.readonly ?? false;
    this.file = file === ':memory:' ? null : file;
    this.commitDelayMs = options.commitDelayMs ?? 0;
    this.db = new Database(file, { readonly, fileMustExist: readonly || check !== undefined });
    try {
      check?.(this);
      if (this.file && !readonly) {
        this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = NORMAL');
        if (options.checkpointPages !== undefined) this.db.pragma(`wal_autocheckpoint = ${options.checkpointPages}`);
      }
      this.db.pragma('cache_size = -65536');
      this.db.pragma('temp_store = MEMORY');
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  /** Prepared on first use: a store prepares a hundred statements and a short-lived open uses a few. */
  prepare<Row>(sql: string): SqlStatement<Row> {
    let stmt: Database.Statement | undefined;
    let raw: Database.Statement | null | undefined;
    const prepared = () => (stmt ??= this.db.prepare(sql));
    return {
      values: (...params: SqlValue[]) => {
        raw ??= prepared().reader ? this.db.prepare(sql).raw(true) : null;
        return (raw ? raw.all(...params) : []) as SqlValue[][];
      },
      run: (...params: SqlValue[]) => {
        prepared().run(...params);
      },
      all: (...params: SqlValue[]) => (prepared().reader ? prepared().all(...params) : []) as Row[],
      get: (...params: SqlValue[]) => (prepared().reader ? prepared().get(...params) : undefined) as Row | undefined,
    };
  }

  transaction<T>(fn: () => T): T {
    // A transaction begun by an exec('BEGIN') (a test staging a crash) is joined too.
    if (this.depth > 0 || (this.commitDelayMs === 0 && this.db.inTransaction)) return fn();
    this.depth++;
    try {
      return this.commitDelayMs === 0 ? this.atOnce(fn) : this.grouped(fn);
    } finally {
      this.depth--;
      if (this.depth === 0 && this.syncAfter) this.sync();
    }
  }

  /** fn in a transaction of its own; `commit: false` leaves it open (a group's first). */
  private atOnce<T>(fn: () => T, commit = true): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      if (commit) this.db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  /** fn runs in a savepoint of a longer transaction that commits within commitDelayMs or at sync(). */
  private grouped<T>(fn: () => T): T {
    if (!this.groupTimer) {
      // The group's first transaction needs no savepoint: if it fails, the group holds nothing else.
      const result = this.atOnce(fn, false);
      this.groupTimer = setTimeout(() => this.sync(), this.commitDelayMs);
      this.groupTimer.unref();
      return result;
    }
    this.db.exec('SAVEPOINT op');
    try {
      const result = fn();
      this.db.exec('RELEASE op');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK TO op');
      this.db.exec('RELEASE op');
      throw error;
    }
  }

  sync(): void {
    this.syncAfter = this.depth > 0;
    if (this.syncAfter || !this.groupTimer) return;
    clearTimeout(this.groupTimer);
    this.groupTimer = null;
    if (this.db.open) this.db.exec('COMMIT');
  }

  hasTable(name: string): boolean {
    this.tableStmt ??= this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    return this.tableStmt.get(name) !== undefined;
  }

  scratch(): SqlAdapter {
    return new NodeSqlite(':memory:');
  }

  freeBytes(): number | null {
    if (!this.file) return null;
    const disk = statfsSync(dirname(this.file));
    return disk.bavail * disk.bsize;
  }

  /** Closes the database; a group not synced rolls back, as a crash would leave it. */
  close(): void {
    if (this.groupTimer) clearTimeout(this.groupTimer);
    this.groupTimer = null;
    if (this.db.open) this.db.close();
  }

  get isOpen(): boolean {
    return this.db.open;
  }
}

export function openSqlite(file: string | ':memory:' = ':memory:', options: NodeSqliteOptions = {}, check?: (sql: NodeSqlite) => void): NodeSqlite {
  return new NodeSqlite(file, options, check) satisfies SqlAdapter;
}
