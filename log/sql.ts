// The synchronous SQL surface every store is written against. It is small on purpose so that a
// Durable Object's `ctx.storage.sql` (exec + cursor, transactionSync) can implement it too.

export type SqlValue = number | string | Uint8Array | null;
export type SqlRow = Record<string, SqlValue>;

export interface SqlStatement<Row = SqlRow> {
  /** Runs the statement; returns the number of rows changed. */
  run(...params: SqlValue[]): number;
  all(...params: SqlValue[]): Row[];
  get(...params: SqlValue[]): Row | undefined;
  /** Rows as arrays of column values: cheaper than objects for bulk scans. */
  values(...params: SqlValue[]): SqlValue[][];
}

/**
 * Runs `ddl` unless `table` exists already: opening an existing store then takes no write lock,
 * so readers (ledgerfs log, verify) never wait on a writer's open transaction.
 */
export function ensureSchema(sql: SqlAdapter, table: string, ddl: string): void {
  if (!sql.prepare("SELECT 1 AS one FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)) sql.exec(ddl);
}

export interface SqlAdapter {
  /** Runs one or more statements without parameters (schema, pragmas). */
  exec(sql: string): void;
  /** A reusable statement; adapters cache the compiled form. */
  prepare<Row = SqlRow>(sql: string): SqlStatement<Row>;
  /** Runs fn atomically; a nested call joins the outer transaction; a throw rolls it all back. */
  transaction<T>(fn: () => T): T;
  close(): void;
  /** False once closed (a close inside a transaction rolls it back). */
  readonly isOpen: boolean;
  /** The file behind the store, or null for an in-memory store. */
  readonly file: string | null;
}
