// SqlAdapter over a Durable Object's SQLite storage (`ctx.storage`, workerd). Statements go
// through `sql.exec(query, ...bindings)`, transactions through `transactionSync` (which nests;
// BEGIN and SAVEPOINT statements are refused). BLOBs come back as ArrayBuffer and are handed on
// as Uint8Array. The object's limits (log/limits.ts) are checked before a statement runs, so a
// caller gets an error naming the limit instead of workerd's.
import { DO_SQL_PARAMS_MAX, DO_SQL_ROW_BYTES_MAX, DO_SQL_STATEMENT_BYTES_MAX, DO_STORAGE_BYTES_MAX } from './limits.ts';
import { prefixedScratch } from './sql-scratch.ts';
import type { SqlAdapter, SqlStatement, SqlValue } from './sql.ts';

/** The part of a workerd SqlStorageCursor this adapter uses. */
interface DoCursor extends Iterator<Record<string, unknown>> {
  raw(): Iterator<unknown[]>;
}

/** The part of a Durable Object's `ctx.storage` this adapter uses. */
export interface DoStorage {
  sql: { exec(query: string, ...bindings: unknown[]): DoCursor; readonly databaseSize: number };
  transactionSync<T>(fn: () => T): T;
}

/** A Durable Object's SQL limit was reached: a statement, a row or the storage. */
export class DoLimitError extends RangeError {
  override name = 'DoLimitError';
  readonly code = 'E2BIG';
}

const bytes = (value: unknown): unknown => (value instanceof ArrayBuffer ? new Uint8Array(value) : value);

function rowOf<Row>(row: Record<string, unknown>): Row {
  for (const key in row) row[key] = bytes(row[key]);
  return row as Row;
}

function checkStatement(sql: string): void {
  if (sql.length > DO_SQL_STATEMENT_BYTES_MAX) throw new DoLimitError(`a SQL statement of ${sql.length} bytes is over the Durable Object limit of ${DO_SQL_STATEMENT_BYTES_MAX}`);
}

function checkParams(params: readonly SqlValue[]): void {
  if (params.length > DO_SQL_PARAMS_MAX) throw new DoLimitError(`${params.length} bound parameters is over the Durable Object limit of ${DO_SQL_PARAMS_MAX} per statement`);
  for (const value of params) {
    const size = typeof value === 'string' ? value.length : value instanceof Uint8Array ? value.length : 0;
    if (size > DO_SQL_ROW_BYTES_MAX) throw new DoLimitError(`a value of ${size} bytes is over the Durable Object limit of ${DO_SQL_ROW_BYTES_MAX} per row`);
  }
}

export class DoSqlite implements SqlAdapter {
  readonly file = null;
  readonly paramsMax = DO_SQL_PARAMS_MAX;
  private readonly storage: DoStorage;
  private open = true;

  constructor(storage: DoStorage) {
    this.storage = storage;
  }

  private run(sql: string, params: readonly SqlValue[]): DoCursor {
    if (!this.open) throw new Error('the Durable Object store is closed');
    checkParams(params);
    return this.storage.sql.exec(sql, ...params);
  }

  exec(sql: string): void {
    checkStatement(sql);
    drain(this.run(sql, []));
  }

  prepare<Row>(sql: string): SqlStatement<Row> {
    checkStatement(sql);
    return {
      run: (...params) => drain(this.run(sql, params)),
      all: (...params) => {
        const rows: Row[] = [];
        for (let cursor = this.run(sql, params), next = cursor.next(); !next.done; next = cursor.next()) rows.push(rowOf<Row>(next.value));
        return rows;
      },
      get: (...params) => {
        const cursor = this.run(sql, params);
        const next = cursor.next();
        // A cursor not read to its end keeps its statement active (a later DROP TABLE of what it
        // reads fails SQLITE_LOCKED), and workerd's cursors cannot be closed early.
        drain(cursor);
        return next.done ? undefined : rowOf<Row>(next.value);
      },
      values: (...params) => {
        const rows: SqlValue[][] = [];
        const cursor = this.run(sql, params).raw();
        for (let next = cursor.next(); !next.done; next = cursor.next()) rows.push(next.value.map(bytes) as SqlValue[]);
        return rows;
      },
    };
  }

  transaction<T>(fn: () => T): T {
    return this.storage.transactionSync(fn);
  }

  /** A Durable Object's writes are durable when its output gate opens: nothing to do here. */
  sync(): void {}

  hasTable(name: string): boolean {
    return this.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  scratch(): SqlAdapter {
    return prefixedScratch(this);
  }

  freeBytes(): number {
    return Math.max(0, DO_STORAGE_BYTES_MAX - this.storage.sql.databaseSize);
  }

  /** The storage outlives the adapter; closing only stops this adapter from using it. */
  close(): void {
    this.open = false;
  }

  get isOpen(): boolean {
    return this.open;
  }
}

function drain(cursor: DoCursor): void {
  while (!cursor.next().done);
}
