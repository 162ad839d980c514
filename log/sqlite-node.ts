// SqlAdapter over better-sqlite3: a file (WAL, synchronous=NORMAL: a commit survives a process
// crash, an OS crash may lose the last transactions but never corrupts) or ':memory:'.
import Database from 'better-sqlite3';
import type { SqlAdapter, SqlStatement, SqlValue } from './sql.ts';

export class NodeSqlite implements SqlAdapter {
  readonly db: Database.Database;
  readonly file: string | null;

  /** `readonly`: an existing file, opened so that nothing can be written to it. */
  constructor(file: string | ':memory:', { readonly = false } = {}) {
    this.file = file === ':memory:' ? null : file;
    this.db = new Database(file, { readonly, fileMustExist: readonly });
    if (this.file && !readonly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
    }
    this.db.pragma('cache_size = -65536');
    this.db.pragma('temp_store = MEMORY');
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  prepare<Row>(sql: string): SqlStatement<Row> {
    const stmt = this.db.prepare(sql);
    const reader = stmt.reader;
    const raw = reader ? this.db.prepare(sql).raw(true) : null;
    return {
      values: (...params: SqlValue[]) => (raw ? raw.all(...params) : []) as SqlValue[][],
      run: (...params: SqlValue[]) => stmt.run(...params).changes,
      all: (...params: SqlValue[]) => (reader ? stmt.all(...params) : []) as Row[],
      get: (...params: SqlValue[]) => (reader ? stmt.get(...params) : undefined) as Row | undefined,
    };
  }

  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  get isOpen(): boolean {
    return this.db.open;
  }
}

export function openSqlite(file: string | ':memory:', options: { readonly?: boolean } = {}): SqlAdapter {
  return new NodeSqlite(file, options) satisfies SqlAdapter;
}
